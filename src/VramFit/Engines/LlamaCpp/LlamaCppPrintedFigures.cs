using System.Collections.Immutable;
using VramFit.Reports;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// The figures llama.cpp prints, under the validation case names (shared/validation/SCHEMA.md):
/// "model_buffer_mib.CUDA0", "kv_buffer_mib.CUDA0" ("[i]" per cache when an iSWA model has two), "k_mib",
/// "v_mib", "kv_cells", "compute_buffer_mib.CUDA_Host", "output_buffer_mib.CUDA_Host", "rs_buffer_mib.CUDA0"
/// (llama_memory_recurrent "RS buffer size") and the
/// llama_memory_breakdown_print table "memory_breakdown_mib.&lt;device&gt;.model/context/compute".
/// </summary>
internal static class LlamaCppPrintedFigures
{
    private const double Mib = 1048576.0;

    public static IReadOnlyDictionary<string, double> From(List<MemoryItem> items, List<LlamaCppCache> caches, LlamaCppSettings s, LlamaCppPlacement p)
    {
        var f = new Dictionary<string, double>(32, StringComparer.Ordinal);
        var gpus = new HashSet<string>(StringComparer.Ordinal);
        for (int d = 0; d < p.Devices; d++)
            gpus.Add(LlamaCppBuffers.Device(s, d));
        var kvIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        // a split GGUF mapped from several files prints one host model buffer per file: "CPU_Mapped[i]"
        var modelBuffers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var i in items)
            if (i.Category == MemoryCategory.Weights)
                modelBuffers[i.Device] = modelBuffers.GetValueOrDefault(i.Device) + 1;
        var modelIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        bool two = caches.Count > 1;
        foreach (var i in items)
        {
            double mib = i.Bytes / Mib;
            // Metal's mapped weights ("MTL0_Mapped") count as that device's model memory in the breakdown table
            string device = gpus.Contains(i.Device) ? i.Device
                : i.Device.EndsWith("_Mapped", StringComparison.Ordinal) && gpus.Contains(i.Device[..^"_Mapped".Length]) ? i.Device[..^"_Mapped".Length]
                : "Host";
            switch (i.Category)
            {
                case MemoryCategory.Weights:
                    if (modelBuffers[i.Device] > 1)
                    {
                        int m = modelIndex.GetValueOrDefault(i.Device);
                        modelIndex[i.Device] = m + 1;
                        f[$"model_buffer_mib.{i.Device}[{m}]"] = mib;
                    }
                    else
                    {
                        f["model_buffer_mib." + i.Device] = mib;
                    }

                    Accumulate(f, "memory_breakdown_mib." + device + ".model", mib);
                    break;
                case MemoryCategory.Activations:
                    f["compute_buffer_mib." + i.Device] = mib;
                    Accumulate(f, "memory_breakdown_mib." + device + ".compute", mib);
                    break;
                case MemoryCategory.Output:
                    f["output_buffer_mib." + i.Device] = mib;
                    break;
                case MemoryCategory.RecurrentState:
                    f["rs_buffer_mib." + i.Device] = mib;
                    Accumulate(f, "memory_breakdown_mib." + device + ".context", mib);
                    break;
                case MemoryCategory.KvCache:
                    // one line per cache and buffer; "[i]" in cache order when an iSWA model has two
                    int n = kvIndex.GetValueOrDefault(i.Device);
                    kvIndex[i.Device] = n + 1;
                    f[two ? $"kv_buffer_mib.{i.Device}[{n}]" : "kv_buffer_mib." + i.Device] = mib;
                    Accumulate(f, "memory_breakdown_mib." + device + ".context", mib);
                    break;
            }
        }

        for (int c = 0; c < caches.Count; c++)
        {
            string suffix = two ? $"[{c}]" : "";
            f[$"k_mib{suffix}"] = caches[c].KeyBytes / Mib;
            if (caches[c].HasValues)
                f[$"v_mib{suffix}"] = caches[c].ValueBytes / Mib;
            f[$"kv_cells{suffix}"] = caches[c].Cells;
        }

        foreach (var d in gpus.Append("Host"))
            foreach (var column in new[] { "model", "context", "compute" })
                f.TryAdd($"memory_breakdown_mib.{d}.{column}", 0);
        return new System.Collections.ObjectModel.ReadOnlyDictionary<string, double>(f);
    }

    private static void Accumulate(Dictionary<string, double> f, string key, double mib) =>
        f[key] = f.GetValueOrDefault(key) + mib;
}
