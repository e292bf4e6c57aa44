using System.Collections.Immutable;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// llama.cpp (and the ik_llama.cpp fork): per-device model, KV, compute and output buffers named as llama.cpp
/// prints them, from its own settings (<see cref="LlamaCppSettings.Names"/>). The engine version is the setting
/// "build" ("b5622", "~2025-03"); default: current mainline.
/// </summary>
public sealed class LlamaCppEngine : IEngineModel
{
    private const double Mib = 1048576.0;

    /// <summary>CUDA context + cuBLAS workspace that llama.cpp never prints: ~300 MiB per device after cuInit on
    /// Ampere/Ada with CUDA 12 (nvidia-smi "used" of an idle context); tools quote 150–460 MiB.</summary>
    private const long GpuContextOverhead = 300L << 20;

    private readonly bool ik;

    /// <param name="ikLlama">Model the ik_llama.cpp fork instead of mainline.</param>
    public LlamaCppEngine(bool ikLlama = false) => ik = ikLlama;

    /// <inheritdoc />
    public string Id => ik ? "ik_llama.cpp" : "llama.cpp";

    /// <inheritdoc />
    public IReadOnlyCollection<string> SettingNames => LlamaCppSettings.Names;

    /// <inheritdoc />
    public MemoryReport Estimate(EstimateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = request.Model;
        var v = LlamaCppVersion.Parse(request.Settings.GetString("build"), ik);
        var s = LlamaCppSettings.From(request.Settings, request.Workload, request.Deployment.TotalGpus, DefaultBackend(request.Deployment.Gpu), ik) is var parsed
            && parsed.Backend == LlamaCppBackend.Metal ? parsed with { IndexedMetalNames = v.IndexedMetalNames } : parsed;
        var p = new LlamaCppPlacement(model.Layers.Length, s, v);
        var tensors = LlamaCppTensors.SplitIntoFiles(LlamaCppTensors.For(model, request.Workload.WeightFormat), s.SplitFiles);
        long ctx = s.CtxSize == 0 ? (model.MaxContext > 0 ? model.MaxContext : 4096) : s.CtxSize;   // -c 0 = n_ctx_train
        long nCtx = LlamaCppKvCache.PaddedContext(ctx, s.FlashAttention, v);
        var notes = ImmutableArray.CreateBuilder<string>();
        var typeV = s.CacheTypeV;
        if (!s.FlashAttention && typeV.BlockSize > 1)
        {
            notes.Add($"quantized V cache ({typeV.Name}) needs flash attention; estimated with an f16 V cache");
            typeV = Numerics.GgmlTypes.Get(Numerics.GgmlType.F16);
        }

        var caches = LlamaCppKvCache.Build(model, s, v, p, nCtx, s.CacheTypeK, typeV);
        bool pipeline = p.Devices > 1 && s.GpuLayers > model.Layers.Length && s.SplitMode == "layer" && s.KvOffload
            && !(v.NoPipelineWithOverrides && (p.HasOverrides || s.CpuMoeLayers > 0));
        var compute = LlamaCppComputeBuffers.Estimate(model, s, v, p, caches, tensors, pipeline);

        var items = new List<MemoryItem>();
        AddModelBuffers(items, model, tensors, s, v, p);
        AddKv(items, caches, s, v, p);
        AddRecurrentState(items, model, s, v, p);
        for (int d = -1; d < p.Devices; d++)
            if (compute.BytesPerDevice[d + 1] > 0)
                items.Add(new MemoryItem
                {
                    Name = "compute buffer",
                    Category = MemoryCategory.Activations,
                    Bytes = compute.BytesPerDevice[d + 1],
                    Device = d < 0 ? HostName(s) : LlamaCppBuffers.Device(s, d),
                    Formula = compute.Simulated is { } sim
                        ? $"ggml-alloc high-water mark of the reserve graph, reached at node {sim.PeakNode} with the live tensors listed"
                        : d < 0
                        ? "graph inputs (KQ masks × pipeline copies, gathered embeddings) [+ CPU layers' live set without op offload]"
                        : "max(attention live set, residual + FFN live set, logits + hidden state, residual + FFN + host weight copy) + pipeline input copies",
                    Inputs = compute.Simulated is { } allocation
                        ? SimulatedInputs(allocation, s, nCtx, model.VocabSize)
                        : ComputeInputs(compute.Terms[d + 1], s, nCtx, model.VocabSize),
                    Origin = compute.Simulated is null
                        ? "llama.cpp src/llama-context.cpp graph_reserve + ggml-alloc (peak of live tensors)"
                        : "llama.cpp b10221 graph_reserve graph (src/llama-graph.cpp, src/models) allocated as ggml-alloc.c does",
                });
        int outputSeqs = s.SequencesForOutputs(v);
        long outputBytes = ((long)model.VocabSize + (s.Embeddings ? model.HiddenSize : 0)) * 4 * outputSeqs;
        items.Add(new MemoryItem
        {
            Name = "output buffer (logits)",
            Category = MemoryCategory.Output,
            Bytes = outputBytes,
            Device = p.Devices > 0 && (p.OutputDevice >= 0 || !v.CpuKvInPlainCpuBuffer) ? HostName(s) : "CPU",
            Formula = "(n_vocab [+ n_embd with --embeddings]) × 4 B × n_seq_max",
            Inputs = [new("n_vocab", model.VocabSize), new("n_embd", s.Embeddings ? model.HiddenSize : 0), new("n_seq_max", outputSeqs)],
            Origin = "llama.cpp src/llama-context.cpp output_reserve",
        });
        for (int d = 0; d < p.Devices && s.Backend != LlamaCppBackend.Metal; d++)
            items.Add(new MemoryItem
            {
                Name = "GPU context (not printed)",
                Category = MemoryCategory.Overhead,
                Bytes = GpuContextOverhead,
                Device = LlamaCppBuffers.Device(s, d),
                Formula = "driver context + BLAS workspace",
                Inputs = [new("context overhead", GpuContextOverhead / Mib, "MiB")],
                Origin = "measured idle CUDA 12 context (nvidia-smi), not a llama.cpp buffer",
            });

        var report = new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = tensors.LogicalParameters > 0 ? tensors.LogicalParameters : TensorInventory.ParameterCount(model),
            Devices = Group(items, s, p, request.Deployment),
            Notes = notes.ToImmutable(),
            Settings = [new("n_ctx", nCtx), new("n_batch", s.BatchSize), new("n_ubatch", s.UbatchSize), new("n_gpu_layers", s.GpuLayers),
                new("offloaded_layers", p.OffloadedLayers), new("flash_attn", s.FlashAttention ? 1 : 0), new("n_seq_max", s.Parallel),
                new("pipeline_copies", pipeline ? 4 : 1), new("build", v.Build)],
            LaunchCommand = LlamaCppLaunchCommand.Build(model, s, nCtx),
        };
        return report with { PrintedFigures = LlamaCppPrintedFigures.From(items, caches, s, p) };
    }

    private static ImmutableArray<FormulaInput> ComputeInputs(LlamaCppComputeTerms t, LlamaCppSettings s, long nCtx, int vocab) =>
    [
        new("n_ubatch", s.UbatchSize), new("n_ctx", nCtx), new("n_vocab", vocab), new("flash_attn", s.FlashAttention ? 1 : 0),
        new("attention", t.Attention / Mib, "MiB"), new("residual + ffn", t.Ffn / Mib, "MiB"), new("logits + hidden", t.Output / Mib, "MiB"),
        new("host weight copy", t.WeightCopy / Mib, "MiB"), new("pipeline input copies", t.InputCopies / Mib, "MiB"), new("graph inputs", t.Inputs / Mib, "MiB"),
    ];

    /// <summary>The simulated allocation's peak: the settings, then every tensor alive at the peak node (offset order).</summary>
    private static ImmutableArray<FormulaInput> SimulatedInputs(GgmlAllocation a, LlamaCppSettings s, long nCtx, int vocab)
    {
        var inputs = ImmutableArray.CreateBuilder<FormulaInput>(4 + a.LiveAtPeak.Count);
        inputs.Add(new("n_ubatch", s.UbatchSize));
        inputs.Add(new("n_ctx", nCtx));
        inputs.Add(new("n_vocab", vocab));
        inputs.Add(new("flash_attn", s.FlashAttention ? 1 : 0));
        foreach (var t in a.LiveAtPeak)
            inputs.Add(new($"live {t.Name} @ {t.Offset / Mib:0.###} MiB", t.Bytes / Mib, "MiB"));
        return inputs.MoveToImmutable();
    }

    private static LlamaCppBackend DefaultBackend(Accelerator gpu) => gpu.Vendor switch
    {
        AcceleratorVendor.Nvidia => LlamaCppBackend.Cuda,
        AcceleratorVendor.Amd => LlamaCppBackend.Rocm,
        AcceleratorVendor.Apple => LlamaCppBackend.Metal,
        AcceleratorVendor.Intel => LlamaCppBackend.Sycl,
        _ => LlamaCppBackend.Vulkan,
    };

    private static string HostName(LlamaCppSettings s) => s.Backend == LlamaCppBackend.Cpu ? "CPU" : LlamaCppBuffers.Host(s.Backend);

    private static void AddModelBuffers(List<MemoryItem> items, ModelDescription model, Checkpoint tensors, LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement p)
    {
        var perBuffer = new Dictionary<string, (long Bytes, int Count)>(StringComparer.Ordinal);
        var table = LlamaCppTensorTable.For(tensors, model.Layers.Length);
        // with mmap the host weights are not copied: each file's mapping range becomes one buffer
        // (llama-model.cpp load_tensors: buffer_from_host_ptr over get_mapping_range, the first to the last byte of
        // the host tensors in that file) — device tensors stored between them count too, one buffer per split file
        string? mapped = s.Mmap ? HostWeights(s, v, p, layer: -1) : null;
        LlamaCppTensorTable.Extent[] ranges;
        if (p.HasRegexOverrides)
        {
            // --override-tensor patterns match tensor names: place tensor by tensor, noting each file's mapped range
            ranges = new LlamaCppTensorTable.Extent[table.Parts];
            Array.Fill(ranges, LlamaCppTensorTable.Extent.Empty);
            for (int i = 0; i < tensors.Tensors.Length; i++)
            {
                var t = tensors.Tensors[i];
                string buffer = BufferOf(t.Name, t.Layer, t.Elements, s, v, p);
                Add(perBuffer, buffer, t.Bytes);
                if (buffer == mapped)
                    ranges[t.Part] = ranges[t.Part].With(table.TensorExtent[i]);
            }
        }
        else
        {
            bool row = s.SplitMode == "row" && p.Devices > 0;
            for (int il = 0; il < model.Layers.Length; il++)
            {
                int d = p.LayerDevice(il);
                string layerBuffer = d >= 0 ? DeviceWeights(s, v, d) : HostWeights(s, v, p, layer: il);
                string matrixBuffer = d >= 0 && row ? LlamaCppBuffers.Split(s.Backend) : layerBuffer;
                Add(perBuffer, layerBuffer, table.VectorBytes[il]);
                Add(perBuffer, matrixBuffer, table.MatrixBytes[il]);
                Add(perBuffer, p.ExpertsOnHost(il) ? HostWeights(s, v, p, layer: il, overridden: d >= 0) : matrixBuffer, table.ExpertBytes[il]);
            }

            Add(perBuffer, HostWeights(s, v, p, layer: -1), table.InputBytes);
            Add(perBuffer, p.OutputDevice >= 0 ? DeviceWeights(s, v, p.OutputDevice) : HostWeights(s, v, p, layer: -1), table.OutputBytes);
            ranges = mapped is null ? [] : MappedRanges(table, p, device: -1);
        }

        // a tied output head: llama.cpp loads token_embd a second time as "output" on the output layer's device
        if (!table.HasOutputWeight && table.TokenEmbeddingBytes > 0 && p.OutputDevice >= 0)
            Add(perBuffer, DeviceWeights(s, v, p.OutputDevice), table.TokenEmbeddingBytes);
        foreach (var (buffer, (bytes, count)) in perBuffer.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (bytes == 0)
                continue;
            // mapped, not copied: one buffer per file, each the file range of the tensors it holds — the host tensors with
            // mmap, and on Metal (unified memory) a GPU's own tensors as well
            bool host = buffer == mapped;
            if (host || (!p.HasRegexOverrides && s.Backend == LlamaCppBackend.Metal && s.Mmap && v.MetalMappedWeights && buffer.EndsWith("_Mapped", StringComparison.Ordinal)))
            {
                int device = host ? -1 : Enumerable.Range(0, p.Devices).FirstOrDefault(d => DeviceWeights(s, v, d) == buffer);
                foreach (var range in host ? ranges : MappedRanges(table, p, device))
                    if (range.Length > 0)
                        items.Add(new MemoryItem
                        {
                            Name = host ? "model buffer (mmap)" : "model buffer (mmap, Metal)",
                            Category = MemoryCategory.Weights,
                            Bytes = range.Length,
                            Device = buffer,
                            Formula = $"file range from the first to the last byte of the {(host ? "host" : "GPU's")} tensors (mapped, not copied)",
                            Inputs = [new(host ? "host tensors" : "GPU tensors", bytes / Mib, "MiB"), new("files", table.Parts), new("offloaded layers", p.OffloadedLayers)],
                            Origin = "llama.cpp load_tensors: ggml_backend_dev_buffer_from_host_ptr over llama_model_loader::get_mapping_range",
                        });
                continue;
            }

            items.Add(new MemoryItem
            {
                Name = "model buffer",
                Category = MemoryCategory.Weights,
                Bytes = bytes,
                Device = buffer,
                Formula = "Σ bytes of the tensors placed in this buffer",
                Inputs = [new("offloaded layers", p.OffloadedLayers), new("n_layer", model.Layers.Length)],
                Origin = tensors.FileTypeName?.Contains("estimated", StringComparison.Ordinal) == true
                    ? $"llama.cpp load_tensors placement; tensor sizes estimated ({tensors.FileTypeName}, src/llama-quant.cpp type choice)"
                    : "llama.cpp load_tensors placement; exact GGUF tensor sizes",
            });
        }
    }

    /// <summary>
    /// Per file, the range holding every tensor of <paramref name="device"/> when whole layers (and --n-cpu-moe experts)
    /// are placed; device −1 is the host (the input layer, CPU layers and experts kept on the host).
    /// </summary>
    private static LlamaCppTensorTable.Extent[] MappedRanges(LlamaCppTensorTable table, LlamaCppPlacement p, int device)
    {
        var ranges = new LlamaCppTensorTable.Extent[table.Parts];
        for (int part = 0; part < ranges.Length; part++)
        {
            var x = table.Extents[part];
            var range = device < 0 ? x.Input : LlamaCppTensorTable.Extent.Empty;
            for (int il = 0; il < x.Layer.Length; il++)
            {
                if (p.LayerDevice(il) == device)
                    range = range.With(x.Layer[il]);
                else if (device < 0 && p.ExpertsOnHost(il))
                    range = range.With(x.Expert[il]);
            }

            ranges[part] = p.OutputDevice == device ? range.With(x.Output) : range;
        }

        return ranges;
    }

    /// <summary>
    /// GPU <paramref name="d"/>'s weight buffer: on Metal with mmap the weights are mapped from the file into
    /// "&lt;device&gt;_Mapped" (<see cref="LlamaCppVersion.MetalMappedWeights"/>), elsewhere the device buffer.
    /// </summary>
    private static string DeviceWeights(LlamaCppSettings s, LlamaCppVersion v, int d) =>
        s.Backend == LlamaCppBackend.Metal && s.Mmap && v.MetalMappedWeights ? LlamaCppBuffers.DeviceMapped(s, d) : LlamaCppBuffers.Device(s, d);

    /// <summary>Host buffer of weights kept off the GPUs: mmap'd ("CPU_Mapped"), else pinned host memory of a GPU build.</summary>
    private static string HostWeights(LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement p, int layer, bool overridden = false)
    {
        if (s.Mmap)
            return v.MappedBufferName ? "CPU_Mapped" : "CPU";
        if (s.Backend == LlamaCppBackend.Cpu || p.Devices == 0)
            return "CPU";
        // without mmap, CPU weights of a GPU build are read into pinned host memory. ik_llama.cpp gives a tensor that
        // -ot …=CPU / --n-cpu-moe moved the plain CPU buffer type it names and pins the rest, the token embedding
        // included (Qwen3-235B with -rtr: "CPU" 89709 MiB of experts, "CUDA_Host" 630.59 MiB = token_embd);
        // mainline keeps the input layer in plain CPU memory
        if (v.IkLlama)
            return overridden ? "CPU" : LlamaCppBuffers.Host(s.Backend);
        return layer >= 0 ? LlamaCppBuffers.Host(s.Backend) : "CPU";
    }

    private static void Add(Dictionary<string, (long, int)> map, string buffer, long bytes)
    {
        map.TryGetValue(buffer, out var cur);
        map[buffer] = (cur.Item1 + bytes, cur.Item2 + 1);
    }

    private static string BufferOf(string name, int layer, long elements, LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement p)
    {
        int d = p.TensorDevice(name, layer, out bool overridden);
        if (d >= 0)
            return s.SplitMode == "row" && p.Devices > 0 && layer >= 0 && elements > 1 && name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("norm", StringComparison.Ordinal)
                ? LlamaCppBuffers.Split(s.Backend)
                : DeviceWeights(s, v, d);
        return HostWeights(s, v, p, layer, overridden);
    }

    private static void AddKv(List<MemoryItem> items, List<LlamaCppCache> caches, LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement p)
    {
        foreach (var c in caches)
            for (int slot = 0; slot < c.KeyBytesPerDevice.Length; slot++)
            {
                long k = c.KeyBytesPerDevice[slot], val = c.ValueBytesPerDevice[slot];
                if (k + val == 0)
                    continue;
                string device = slot > 0 ? LlamaCppBuffers.Device(s, slot - 1)
                    : s.Backend == LlamaCppBackend.Cpu || v.CpuKvInPlainCpuBuffer ? "CPU" : LlamaCppBuffers.Host(s.Backend);
                var inputs = ImmutableArray.Create<FormulaInput>(new("cells", c.Cells), new("layers", c.Layers), new("type_k bytes/row", s.CacheTypeK.TypeSize), new("type_k block", s.CacheTypeK.BlockSize));
                items.Add(new MemoryItem
                {
                    Name = c.IsSwa ? "KV cache (SWA layers)" : "KV cache",
                    Category = MemoryCategory.KvCache,
                    Bytes = k + val,
                    Device = device,
                    Formula = "cells × Σ layers (n_embd_k_gqa × bytes(type_k) + n_embd_v_gqa × bytes(type_v))",
                    Inputs = inputs,
                    Origin = c.IsSwa ? "llama.cpp src/llama-kv-cache-iswa.cpp (PR #13194)" : "llama.cpp src/llama-kv-cache.cpp",
                    Children =
                    [
                        new MemoryItem { Name = "K", Category = MemoryCategory.KvCache, Bytes = k, Device = device, Formula = "cells × n_embd_k_gqa × bytes(type_k)", Inputs = inputs, Origin = "llama_kv_cache" },
                        new MemoryItem { Name = "V", Category = MemoryCategory.KvCache, Bytes = val, Device = device, Formula = "cells × n_embd_v_gqa × bytes(type_v)", Inputs = inputs, Origin = "llama_kv_cache" },
                    ],
                });
            }
    }

    /// <summary>
    /// Recurrent layers (Mamba, gated delta net, RWKV) keep a constant state per sequence: the rolling conv state r
    /// and the SSM state s, f32, for max(1, n_seq_max) sequences, on the layer's device (src/llama-memory-recurrent.cpp).
    /// </summary>
    private static void AddRecurrentState(List<MemoryItem> items, ModelDescription model, LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement p)
    {
        long seqs = Math.Max(1, s.Parallel);
        var perDevice = new Dictionary<string, (long R, long S, int Layers)>(StringComparer.Ordinal);
        for (int il = 0; il < model.Layers.Length; il++)
        {
            var layer = model.Layers[il];
            if (!layer.OwnsRecurrentState)
                continue;
            int d = s.KvOffload ? p.LayerDevice(il) : -1;
            string device = d >= 0 ? LlamaCppBuffers.Device(s, d)
                : s.Backend == LlamaCppBackend.Cpu || v.CpuKvInPlainCpuBuffer ? "CPU" : LlamaCppBuffers.Host(s.Backend);
            var r = layer.Attention.Recurrent!;
            perDevice.TryGetValue(device, out var cur);
            perDevice[device] = (cur.R + r.ConvStateElements * 4 * seqs, cur.S + r.SsmStateElements * 4 * seqs, cur.Layers + 1);
        }

        foreach (var (device, (rBytes, sBytes, layers)) in perDevice.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            items.Add(new MemoryItem
            {
                Name = "recurrent state (RS buffer)",
                Category = MemoryCategory.RecurrentState,
                Bytes = rBytes + sBytes,
                Device = device,
                Formula = "n_seq_max × Σ recurrent layers (conv state r + ssm state s) × 4 B",
                Inputs = [new("recurrent layers", layers), new("n_seq_max", seqs), new("r", rBytes / Mib, "MiB"), new("s", sBytes / Mib, "MiB")],
                Origin = "llama.cpp src/llama-memory-recurrent.cpp (f32 r_l / s_l tensors)",
            });
    }

    private static ImmutableArray<DeviceMemory> Group(List<MemoryItem> items, LlamaCppSettings s, LlamaCppPlacement p, Deployment deployment)
    {
        var devices = ImmutableArray.CreateBuilder<DeviceMemory>();
        var gpuNames = new HashSet<string>(StringComparer.Ordinal);
        for (int d = 0; d < p.Devices; d++)
        {
            var name = LlamaCppBuffers.Device(s, d);
            gpuNames.Add(name);
            devices.Add(new DeviceMemory
            {
                Device = name,
                CapacityBytes = deployment.UsableBytesPerGpu,
                IsAccelerator = true,
                Items = [.. items.Where(i => i.Device == name)],
            });
        }

        var split = items.Where(i => i.Device == LlamaCppBuffers.Split(s.Backend) && !gpuNames.Contains(i.Device)).ToList();
        if (split.Count > 0 && p.Devices > 0)
        {
            // row split: every GPU holds its share of each matrix
            for (int d = 0; d < devices.Count; d++)
                devices[d] = devices[d] with
                {
                    Items = devices[d].Items.AddRange(split.Select(i => i with { Bytes = i.Bytes / p.Devices, Name = i.Name + " (row split share)" })),
                };
        }

        devices.Add(new DeviceMemory
        {
            Device = "Host",
            IsAccelerator = false,
            CapacityBytes = deployment.HostMemoryBytes,
            Items = [.. items.Where(i => !gpuNames.Contains(i.Device) && !split.Contains(i))],
        });
        return devices.ToImmutable();
    }
}
