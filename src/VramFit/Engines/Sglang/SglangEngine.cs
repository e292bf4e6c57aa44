using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using VramFit.Engines.Serving;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Engines.Sglang;

/// <summary>
/// SGLang's token pool per TP rank (python/sglang/srt/model_executor/model_runner.py <c>profile_max_num_token</c>):
/// rest = memory free after loading weights − memory free before loading × (1 − mem_fraction_static);
/// max_total_num_tokens = rest // cell_size, with cell_size = KV bytes of one token over all layers of the rank.
/// The (1 − mem_fraction_static) share is left for activations, CUDA graphs and the sampler.
/// </summary>
public sealed class SglangEngine : IEngineModel
{
    public string Id => "sglang";

    public IReadOnlyCollection<string> SettingNames { get; } =
    [
        "tp_size", "tp", "pp_size", "dp_size", "enable_ep_moe", "ep_size", "mem_fraction_static", "context_length",
        "kv_cache_dtype", "chunked_prefill_size", "max_prefill_tokens", "max_running_requests", "max_total_tokens",
        "page_size", "dtype", "quantization", "engine_version", "disable_cuda_graph", "trust_remote_code",
        "cuda_graph_max_bs", "enable_piecewise_cuda_graph", "disable_piecewise_cuda_graph",
    ];

    public MemoryReport Estimate(EstimateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = request.Settings;
        s.EnsureKnown("SGLang", SettingNames);
        var model = request.Model;
        int tp = s.GetInt("tp_size", s.GetInt("tp", 1, 1, 4096), 1, 4096);
        var layout = new ParallelLayout(tp, s.GetInt("pp_size", 1, 1, 4096), s.GetInt("dp_size", 1, 1, 4096),
            s.GetBool("enable_ep_moe", false) || s.GetInt("ep_size", 1, 1, 4096) > 1);
        if (layout.TotalGpus > request.Deployment.TotalGpus)
            throw new InvalidSettingException("tp_size", $"tp {tp} × pp {layout.Pipeline} × dp {layout.Data} needs {layout.TotalGpus} GPUs; the deployment has {request.Deployment.TotalGpus}");
        var version = SglangVersion.Parse(s.GetString("engine_version"));
        bool mla = model.HasLayers(AttentionKind.Mla);
        bool? piecewise = s.Has("enable_piecewise_cuda_graph") ? s.GetBool("enable_piecewise_cuda_graph", false)
            : s.Has("disable_piecewise_cuda_graph") ? !s.GetBool("disable_piecewise_cuda_graph", false) : null;
        double fraction = s.Has("mem_fraction_static") ? s.GetDouble("mem_fraction_static", 0.88, 0.01, 1.0)
            : SglangDefaults.MemFraction(version, request.Deployment.Gpu.MemoryBytes >> 20, tp, layout.Pipeline,
                s.Has("chunked_prefill_size") ? s.GetInt("chunked_prefill_size", 0, -1, 1 << 24) : null,
                s.Has("cuda_graph_max_bs") ? s.GetInt("cuda_graph_max_bs", 0, 1, 1 << 16) : null, piecewise, mla,
                s.GetInt("max_prefill_tokens", 16384, 1, 1 << 24));
        long contextLength = s.Has("context_length") ? s.GetLong("context_length", 0, 1, 1L << 30)
            : request.Workload.ContextTokens ?? (model.MaxContext > 0 ? model.MaxContext
                : throw new InvalidSettingException("context_length", "the model does not state max_position_embeddings; give --context-length"));
        var dtype = s.GetString("dtype") is { } d && !d.Equals("auto", StringComparison.OrdinalIgnoreCase)
            ? (ScalarTypes.TryParse(d, out var t) ? t : throw new InvalidSettingException("dtype", $"'{d}' is not a dtype"))
            : model.Dtype is ScalarType.F32 ? ScalarType.BF16 : model.Dtype;
        var kvDtype = KvCacheDtype.Parse(s.GetString("kv_cache_dtype") ?? request.Workload.KvCacheType, dtype);
        int pageSize = s.GetInt("page_size", 1, 1, 1 << 16);

        var profile = ServingProfiles.Get(model, request.Workload.WeightFormat ?? model.CheckpointFormat ?? WeightFormat.DenseOf(dtype));
        var gpu = request.Deployment.Gpu;
        long free0 = request.Deployment.UsableBytesPerGpu;
        // memory free when SGLang takes its "before loading" reading: after the CUDA context and torch.distributed (NCCL) init;
        // a deployment that carries SGLang's own reading gives it directly
        long before = request.Deployment.FreeReadAfterEngineStart && request.Deployment.FreeBytesPerGpu is { } read
            ? read
            : free0 - InitOverheadBytes(tp, gpu);
        var dtypeBytes = dtype.Bits() / 8;

        var devices = ImmutableArray.CreateBuilder<DeviceMemory>();
        long minTokens = long.MaxValue, stage0Weights = 0, kPerToken0 = 0, vPerToken0 = 0, cellSize0 = 0, rest0 = 0;
        for (int stage = 0; stage < layout.Pipeline; stage++)
        {
            var w = ServingProfiles.Weights(profile, layout, ShardingRules.Vllm, stage);
            // SGLang's "weight load" figure is the drop in free device memory (get_available_gpu_memory after
            // empty_cache): the caching allocator's segments behind the parameters and rotary tables, not their bytes
            var torchWeights = ServingProfiles.TorchWeights(profile, layout, ShardingRules.Vllm, stage, dtypeBytes);
            long loaded = torchWeights.ReservedBytes;
            long after = before - loaded;
            long rest = after - (long)(before * (1 - fraction));
            var layers = KvLayerSpec.ForStage(model, tp, kvDtype, w.FirstLayer, w.LayerCount, 4);
            long cell = 0, kBytes = 0;
            foreach (var l in layers)
            {
                if (l.Kind == KvLayerKind.RecurrentState)
                    continue;
                cell += l.BytesPerToken;
                var a = model.Layers[l.Layer].Attention;
                kBytes += l.Kind == KvLayerKind.Mla ? l.BytesPerToken : Math.Max(1, a.KvHeadCount / tp) * (long)a.KeyHeadDim * kvDtype.ElementBytes;
            }

            if (cell == 0)
                throw new UnsupportedArchitectureException($"{model.Architecture} without attention KV on a stage", ["attention models"]);
            long tokens = Math.Max(0, rest) / cell / pageSize * pageSize;
            if (s.Has("max_total_tokens"))
                tokens = Math.Min(tokens, s.GetLong("max_total_tokens", 0, 1, long.MaxValue));
            minTokens = Math.Min(minTokens, tokens);
            if (stage == 0)
                (stage0Weights, kPerToken0, vPerToken0, cellSize0, rest0) = (loaded, kBytes, cell - kBytes, cell, rest);

            string device = tp == 1 ? $"GPU{stage}" : $"GPU{stage * tp}-{stage * tp + tp - 1}";
            var weightItem = ServingItems.Weights(w, device, profile.Format.Name, "SGLang model loader (avail mem before − after loading), per TP rank",
                ServingItems.RotaryTables(torchWeights.RotaryCacheBytes, dtypeBytes, device, "SGLang rotary_embedding.py get_rope (vLLM's module)"),
                ServingItems.Item("caching-allocator segments", MemoryCategory.Weights, loaded - w.Total - torchWeights.RotaryCacheBytes, device,
                    "segments reserved behind the parameters (own segment rounded up to 2 MiB; 20 MiB segments shared by 1–10 MiB tensors) − tensor bytes",
                    "PyTorch c10/cuda/CUDACachingAllocator.cpp get_allocation_size; SGLang model_runner.py load_model"));
            long capacity = gpu.MemoryBytes;
            devices.Add(new DeviceMemory
            {
                Device = device,
                CapacityBytes = capacity,
                Items =
                [
                    weightItem,
                    ServingItems.Item("CUDA context + NCCL buffers", MemoryCategory.Overhead, InitOverheadBytes(tp, gpu), device,
                        "context + NCCL channels (TP > 1) + custom all-reduce", "SGLang init_torch_distributed",
                        new FormulaInput("tp_size", tp)),
                    ServingItems.Item("KV pool", MemoryCategory.KvCache, tokens * cell, device,
                        "max_total_num_tokens × cell_size", "SGLang model_runner.py profile_max_num_token / init_memory_pool",
                        new FormulaInput("cell_size", cell, "B"), new FormulaInput("max_total_num_tokens", tokens), new FormulaInput("mem_fraction_static", fraction)),
                    ServingItems.Item("reserved (1 − mem_fraction_static): activations, CUDA graphs", MemoryCategory.Activations, (long)(before * (1 - fraction)), device,
                        "memory before loading × (1 − mem_fraction_static)", "SGLang server_args.py mem_fraction_static",
                        new FormulaInput("memory before loading", before, "B")),
                ],
            });
        }

        long poolTokens = minTokens;
        double concurrency = (double)poolTokens / contextLength;
        string? error = poolTokens <= 0
            // model_runner.py init_memory_pool
            ? "Not enough memory. Please try to increase --mem-fraction-static."
            : null;
        var notes = ImmutableArray.CreateBuilder<string>();
        if (error is not null)
            notes.Add(error);
        if (poolTokens < contextLength && poolTokens > 0)
            notes.Add($"the pool ({poolTokens} tokens) is shorter than context_length ({contextLength}): one request cannot use the whole context");
        if (model.Layers.Any(l => l.OwnsRecurrentState))
            notes.Add("recurrent layers: SGLang keeps their state in a separate pool sized by max_running_requests (not included)");

        // SGLang allocates page_size extra slots (slot 0 is the padding token): K size = (tokens + page) × heads × dim × layers
        long slots = poolTokens + pageSize;
        var figures = ImmutableDictionary.CreateBuilder<string, double>();
        figures["max_total_num_tokens"] = poolTokens;
        figures["k_gib"] = ServingItems.GiB2(slots * kPerToken0);
        figures["v_gib"] = ServingItems.GiB2(slots * vPerToken0);
        figures["weights_gib"] = ServingItems.GiB2(stage0Weights);
        figures["max_concurrency"] = Math.Round(concurrency, 2);

        return new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = profile.Parameters,
            Devices = devices.ToImmutable(),
            Notes = notes.ToImmutable(),
            Settings = [new("tp_size", tp), new("mem_fraction_static", fraction), new("context_length", contextLength), new("page_size", pageSize)],
            Capacity = new ServingCapacity
            {
                KvCacheBytes = poolTokens * cellSize0,
                KvCacheTokens = poolTokens,
                GpuBlocks = pageSize > 1 ? poolTokens / pageSize : null,
                BlockSize = pageSize,
                MaxConcurrency = concurrency,
                MaxModelLen = Math.Min(contextLength, poolTokens),
                EngineError = error,
            },
            PrintedFigures = figures.ToImmutable(),
            LaunchCommand = Launch(model, tp, layout, fraction, contextLength, s),
        };
    }

    /// <summary>
    /// Device memory SGLang's process holds before it reads "avail mem" at "Load weight begin": the CUDA context,
    /// NCCL's buffers and the custom all-reduce buffers (model_runner.py init_torch_distributed).
    /// </summary>
    public static long InitOverheadBytes(int tp, Hardware.Accelerator gpu) =>
        CommunicationBuffers.CudaContextBytes(gpu) + CommunicationBuffers.NcclBytes(tp, gpu)
        + (CommunicationBuffers.CustomAllReduce(tp, gpu) ? CommunicationBuffers.CustomAllReduceBytes : 0);

    private static string Launch(ModelDescription model, int tp, ParallelLayout layout, double fraction, long context, EngineSettings s)
    {
        var sb = new StringBuilder("python -m sglang.launch_server --model-path ").Append(model.Name);
        if (tp > 1) sb.Append(" --tp ").Append(tp.ToString(CultureInfo.InvariantCulture));
        if (layout.Data > 1) sb.Append(" --dp ").Append(layout.Data.ToString(CultureInfo.InvariantCulture));
        sb.Append(" --mem-fraction-static ").Append(fraction.ToString(CultureInfo.InvariantCulture));
        sb.Append(" --context-length ").Append(context.ToString(CultureInfo.InvariantCulture));
        if (s.GetString("kv_cache_dtype") is { } kv) sb.Append(" --kv-cache-dtype ").Append(kv);
        if (s.GetString("chunked_prefill_size") is { } c) sb.Append(" --chunked-prefill-size ").Append(c);
        return sb.ToString();
    }
}
