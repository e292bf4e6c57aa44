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

    public static ImmutableDictionary<string, double> From(List<MemoryItem> items, List<LlamaCppCache> caches, LlamaCppSettings s, LlamaCppPlacement p)
    {
        var f = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        var gpus = new HashSet<string>(StringComparer.Ordinal);
        for (int d = 0; d < p.Devices; d++)
            gpus.Add(LlamaCppBuffers.Device(s.Backend, d));
        foreach (var i in items.Where(i => i.Category == MemoryCategory.Weights))
            f[$"model_buffer_mib.{i.Device}"] = i.Bytes / Mib;
        foreach (var i in items.Where(i => i.Category == MemoryCategory.Activations))
            f[$"compute_buffer_mib.{i.Device}"] = i.Bytes / Mib;
        foreach (var i in items.Where(i => i.Category == MemoryCategory.Output))
            f[$"output_buffer_mib.{i.Device}"] = i.Bytes / Mib;

        foreach (var i in items.Where(i => i.Category == MemoryCategory.RecurrentState))
            f[$"rs_buffer_mib.{i.Device}"] = i.Bytes / Mib;

        bool two = caches.Count > 1;
        var kvByDevice = items.Where(i => i.Category == MemoryCategory.KvCache).GroupBy(i => i.Device, StringComparer.Ordinal);
        foreach (var g in kvByDevice)
        {
            var list = g.ToList();
            if (list.Count == 1 && !two)
                f[$"kv_buffer_mib.{g.Key}"] = list[0].Bytes / Mib;
            else
                for (int c = 0; c < list.Count; c++)
                    f[$"kv_buffer_mib.{g.Key}[{c}]"] = list[c].Bytes / Mib;
        }

        for (int c = 0; c < caches.Count; c++)
        {
            string suffix = two ? $"[{c}]" : "";
            f[$"k_mib{suffix}"] = caches[c].KeyBytes / Mib;
            if (caches[c].HasValues)
                f[$"v_mib{suffix}"] = caches[c].ValueBytes / Mib;
            f[$"kv_cells{suffix}"] = caches[c].Cells;
        }

        // llama_memory_breakdown_print: per GPU model / context (KV) / compute; every host buffer under "Host"
        foreach (var i in items.Where(i => i.Category != MemoryCategory.Overhead))
        {
            string device = gpus.Contains(i.Device) ? i.Device : "Host";
            string column = i.Category switch
            {
                MemoryCategory.Weights => "model",
                MemoryCategory.KvCache or MemoryCategory.RecurrentState => "context",
                MemoryCategory.Activations => "compute",
                _ => "",
            };
            if (column.Length == 0)
                continue;
            var key = $"memory_breakdown_mib.{device}.{column}";
            f[key] = f.GetValueOrDefault(key) + i.Bytes / Mib;
        }

        foreach (var d in gpus.Append("Host"))
            foreach (var column in new[] { "model", "context", "compute" })
                f.TryAdd($"memory_breakdown_mib.{d}.{column}", 0);
        return f.ToImmutable();
    }
}
