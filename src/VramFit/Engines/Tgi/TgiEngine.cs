using System.Collections.Immutable;
using System.Globalization;
using VramFit.Engines.Serving;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Engines.Tgi;

/// <summary>
/// Text Generation Inference per shard (server/text_generation_server/models/flash_causal_lm.py <c>warmup</c>):
/// after a warm-up prefill of max_batch_prefill_tokens, free = free device memory − (1 − cuda_memory_fraction)
/// × total; blocks = ⌊free × TGI_WIGGLE_ROOM (0.93) / block bytes⌋ + the warm-up's own blocks;
/// max_batch_total_tokens = blocks × BLOCK_SIZE.
/// </summary>
public sealed class TgiEngine : IEngineModel
{
    /// <summary>TGI_WIGGLE_ROOM default (flash_causal_lm.py): the share of the measured free memory given to KV blocks.</summary>
    public const double WiggleRoom = 0.93;

    public string Id => "tgi";

    public IReadOnlyCollection<string> SettingNames { get; } =
    [
        "num_shard", "cuda_memory_fraction", "max_batch_total_tokens", "max_input_tokens", "max_total_tokens",
        "max_batch_prefill_tokens", "quantize", "dtype", "kv_cache_dtype", "attention", "engine_version",
    ];

    public MemoryReport Estimate(EstimateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = request.Settings;
        s.EnsureKnown("TGI", SettingNames);
        var model = request.Model;
        int shards = s.GetInt("num_shard", 1, 1, 4096);
        var layout = new ParallelLayout(shards);
        if (shards > request.Deployment.TotalGpus)
            throw new InvalidSettingException("num_shard", $"{shards} shards need {shards} GPUs; the deployment has {request.Deployment.TotalGpus}");
        double fraction = s.GetDouble("cuda_memory_fraction", 1.0, 0.01, 1.0);
        long maxTotal = s.Has("max_total_tokens") ? s.GetLong("max_total_tokens", 0, 2, 1L << 30)
            : request.Workload.ContextTokens ?? (model.MaxContext > 0 ? model.MaxContext
                : throw new InvalidSettingException("max_total_tokens", "the model does not state max_position_embeddings; give --max-total-tokens"));
        long maxInput = s.GetLong("max_input_tokens", maxTotal - 1, 1, maxTotal - 1);
        // launcher: max_batch_prefill_tokens defaults to max_input_tokens + 50
        long prefill = s.GetLong("max_batch_prefill_tokens", maxInput + 50, 1, 1L << 30);
        // ATTENTION env: flashinfer (default since 3.0) pages single tokens, flashdecoding 256, paged 16
        // (server/text_generation_server/models/globals.py BLOCK_SIZE)
        int blockSize = (s.GetString("attention") ?? "flashinfer").ToLowerInvariant() switch
        {
            "flashinfer" => 1,
            "flashdecoding" => 256,
            "paged" => 16,
            var other => throw new InvalidSettingException("attention", $"'{other}' is not flashinfer, flashdecoding or paged"),
        };
        var dtype = model.Dtype is ScalarType.F32 ? ScalarType.BF16 : model.Dtype;
        if (s.GetString("dtype") is { } d)
            dtype = ScalarTypes.TryParse(d, out var t) ? t : throw new InvalidSettingException("dtype", $"'{d}' is not a dtype");
        var kvDtype = KvCacheDtype.Parse(s.GetString("kv_cache_dtype") ?? request.Workload.KvCacheType, dtype);
        var format = request.Workload.WeightFormat ?? model.CheckpointFormat
            ?? (s.GetString("quantize") is { } q ? WeightFormat.Parse(q switch { "bitsandbytes-nf4" => "nf4", "bitsandbytes-fp4" => "fp4", "bitsandbytes" => "llm-int8", "eetq" => "int8", _ => q }, dtype) : WeightFormat.DenseOf(dtype));
        var profile = ServingProfiles.Get(model, format);
        var gpu = request.Deployment.Gpu;
        var w = ServingProfiles.Weights(profile, layout, ShardingRules.Vllm);
        long total = gpu.MemoryBytes;
        long overhead = CommunicationBuffers.CudaContextBytes(gpu) + CommunicationBuffers.NcclBytes(shards, gpu);
        long perToken = 0;
        foreach (var l in KvLayerSpec.ForStage(model, shards, kvDtype, 0, model.RepeatingLayerCount, 4))
            perToken += l.BytesPerToken;
        long blockBytes = perToken * blockSize;
        if (blockBytes == 0)
            throw new UnsupportedArchitectureException($"{model.Architecture} without an attention KV cache", ["attention models"]);
        long warmupBlocks = (prefill + blockSize - 1) / blockSize;
        long free = request.Deployment.UsableBytesPerGpu - overhead - w.Total - warmupBlocks * blockBytes - (long)((1 - fraction) * total);
        // a warm-up prefill that does not fit fails the start-up: no pool at all
        long blocks = free < 0 ? 0 : (long)(free * WiggleRoom) / blockBytes + warmupBlocks;
        long tokens = blocks * blockSize;
        if (s.Has("max_batch_total_tokens"))
            tokens = Math.Min(tokens, s.GetLong("max_batch_total_tokens", 0, 1, long.MaxValue));
        // flash_causal_lm.py warmup raises this when the warm-up prefill runs out of memory
        string? error = free < 0
            ? $"Not enough memory to handle {prefill} prefill tokens. You need to decrease `--max-batch-prefill-tokens`"
            : tokens < maxTotal
                ? $"Not enough memory to handle {maxTotal} total tokens: the KV cache holds {tokens}. Lower --max-total-tokens or raise --cuda-memory-fraction"
                : null;
        string device = shards == 1 ? "GPU0" : $"GPU0-{shards - 1}";
        double concurrency = (double)tokens / maxTotal;
        return new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = profile.Parameters,
            Devices =
            [
                new DeviceMemory
                {
                    Device = device,
                    CapacityBytes = total,
                    Items =
                    [
                        ServingItems.Weights(w, device, format.Name, "TGI sharded loader (TensorParallelColumnLinear / RowLinear), per shard"),
                        ServingItems.Item("CUDA context + NCCL buffers", MemoryCategory.Overhead, overhead, device, "context + NCCL channels (shards > 1)", "CUDA driver, NCCL"),
                        ServingItems.Item("KV cache", MemoryCategory.KvCache, tokens / blockSize * blockBytes, device,
                            "(⌊free × 0.93 / block bytes⌋ + warm-up blocks) × block bytes", "TGI flash_causal_lm.py warmup",
                            new FormulaInput("cuda_memory_fraction", fraction), new FormulaInput("BLOCK_SIZE", blockSize), new FormulaInput("max_batch_prefill_tokens", prefill)),
                        ServingItems.Item("headroom (1 − 0.93 wiggle room, 1 − cuda_memory_fraction)", MemoryCategory.Activations,
                            (long)(Math.Max(0, free) * (1 - WiggleRoom)) + (long)((1 - fraction) * total), device,
                            "left for prefill activations and CUDA graphs", "TGI flash_causal_lm.py TGI_WIGGLE_ROOM"),
                    ],
                },
            ],
            Notes = error is null ? [] : [error],
            Settings = [new("num_shard", shards), new("cuda_memory_fraction", fraction), new("max_total_tokens", maxTotal), new("max_batch_prefill_tokens", prefill)],
            Capacity = new ServingCapacity
            {
                KvCacheBytes = tokens / blockSize * blockBytes,
                KvCacheTokens = tokens,
                GpuBlocks = tokens / blockSize,
                BlockSize = blockSize,
                MaxConcurrency = concurrency,
                MaxModelLen = Math.Min(maxTotal, tokens),
                EngineError = error,
            },
            PrintedFigures = ImmutableDictionary<string, double>.Empty
                .Add("max_batch_total_tokens", tokens).Add("weights_gib", ServingItems.GiB2(w.Total)).Add("max_concurrency", Math.Round(concurrency, 2)),
            LaunchCommand = string.Create(CultureInfo.InvariantCulture,
                $"text-generation-launcher --model-id {model.Name} --num-shard {shards} --cuda-memory-fraction {fraction} --max-input-tokens {maxInput} --max-total-tokens {maxTotal} --max-batch-prefill-tokens {prefill}"),
        };
    }
}
