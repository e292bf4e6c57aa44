using System.Collections.Immutable;
using System.Globalization;
using VramFit.Engines.Serving;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Engines.TensorRtLlm;

/// <summary>
/// TensorRT-LLM (PyTorch backend, <c>trtllm-serve</c>/LLM API) per TP rank: after the weights are loaded and a
/// warm-up forward of max_num_tokens has run, the KV cache manager takes
/// <c>KvCacheConfig.free_gpu_memory_fraction</c> (default 0.9) of the memory then free
/// (tensorrt_llm/_torch/pyexecutor/_util.py KvCacheCreator), in blocks of <c>tokens_per_block</c> (default 32)
/// tokens spanning every layer of the rank.
/// </summary>
public sealed class TensorRtLlmEngine : IEngineModel
{
    public string Id => "tensorrt-llm";

    public IReadOnlyCollection<string> SettingNames { get; } =
    [
        "tp_size", "pp_size", "ep_size", "free_gpu_memory_fraction", "tokens_per_block", "max_batch_size", "max_num_tokens",
        "max_seq_len", "max_tokens", "kv_cache_dtype", "dtype", "quantization", "engine_version",
    ];

    public MemoryReport Estimate(EstimateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = request.Settings;
        s.EnsureKnown("TensorRT-LLM", SettingNames);
        var model = request.Model;
        int tp = s.GetInt("tp_size", 1, 1, 4096);
        var layout = new ParallelLayout(tp, s.GetInt("pp_size", 1, 1, 4096), 1, s.GetInt("ep_size", 1, 1, 4096) > 1);
        if (layout.TotalGpus > request.Deployment.TotalGpus)
            throw new InvalidSettingException("tp_size", $"tp {tp} × pp {layout.Pipeline} needs {layout.TotalGpus} GPUs; the deployment has {request.Deployment.TotalGpus}");
        // llmapi/llm_args.py KvCacheConfig: free_gpu_memory_fraction 0.9, tokens_per_block 32;
        // BaseLlmArgs: max_batch_size 2048, max_num_tokens 8192
        double fraction = s.GetDouble("free_gpu_memory_fraction", 0.9, 0.0, 1.0);
        int tokensPerBlock = s.GetInt("tokens_per_block", 32, 1, 1 << 16);
        int maxBatch = s.GetInt("max_batch_size", request.Workload.Batch ?? 2048, 1, 1 << 20);
        long maxNumTokens = s.GetLong("max_num_tokens", 8192, 1, 1L << 30);
        long maxSeqLen = s.Has("max_seq_len") ? s.GetLong("max_seq_len", 0, 1, 1L << 30)
            : request.Workload.ContextTokens ?? (model.MaxContext > 0 ? model.MaxContext
                : throw new InvalidSettingException("max_seq_len", "the model does not state max_position_embeddings; give max_seq_len"));
        var dtype = model.Dtype is ScalarType.F32 ? ScalarType.BF16 : model.Dtype;
        if (s.GetString("dtype") is { } d && !d.Equals("auto", StringComparison.OrdinalIgnoreCase))
            dtype = ScalarTypes.TryParse(d, out var t) ? t : throw new InvalidSettingException("dtype", $"'{d}' is not a dtype");
        var kvDtype = KvCacheDtype.Parse(s.GetString("kv_cache_dtype") ?? request.Workload.KvCacheType, dtype);
        var profile = ServingProfiles.Get(model, request.Workload.WeightFormat ?? model.CheckpointFormat ?? WeightFormat.DenseOf(dtype));
        var gpu = request.Deployment.Gpu;
        int dtypeBytes = dtype.Bytes();

        var devices = ImmutableArray.CreateBuilder<DeviceMemory>();
        long minBlocks = long.MaxValue, blockBytes0 = 0, stage0Weights = 0;
        for (int stage = 0; stage < layout.Pipeline; stage++)
        {
            var w = ServingProfiles.Weights(profile, layout, ShardingRules.Vllm, stage);
            long overhead = CommunicationBuffers.CudaContextBytes(gpu) + CommunicationBuffers.NcclBytes(tp, gpu);
            long forward = ForwardActivations.PeakBytes(model, maxNumTokens, layout, dtypeBytes, w.FirstLayer, w.LayerCount);
            // the warm-up's sampled logits: fp32 [max_batch_size, vocab] on the last stage
            long logits = stage == layout.Pipeline - 1 ? (long)Math.Min(maxBatch, maxNumTokens) * model.VocabSize * 4 : 0;
            long activations = Math.Max(forward, logits + maxNumTokens * model.HiddenSize * dtypeBytes);
            long free = request.Deployment.UsableBytesPerGpu - overhead - w.Total - activations;
            long kvBudget = (long)(Math.Max(0, free) * fraction);
            long perToken = 0;
            foreach (var l in KvLayerSpec.ForStage(model, tp, kvDtype, w.FirstLayer, w.LayerCount, 4))
                perToken += l.BytesPerToken;
            long blockBytes = perToken * tokensPerBlock;
            long blocks = blockBytes == 0 ? 0 : kvBudget / blockBytes;
            if (s.Has("max_tokens"))
                blocks = Math.Min(blocks, (s.GetLong("max_tokens", 0, 1, long.MaxValue) + tokensPerBlock - 1) / tokensPerBlock);
            minBlocks = Math.Min(minBlocks, blocks);
            if (stage == 0)
                (blockBytes0, stage0Weights) = (blockBytes, w.Total);

            string device = tp == 1 ? $"GPU{stage}" : $"GPU{stage * tp}-{stage * tp + tp - 1}";
            devices.Add(new DeviceMemory
            {
                Device = device,
                CapacityBytes = gpu.MemoryBytes,
                Items =
                [
                    ServingItems.Weights(w, device, profile.Format.Name, "TensorRT-LLM PyTorch backend model loader, per rank"),
                    ServingItems.Item("CUDA context + NCCL buffers", MemoryCategory.Overhead, overhead, device, "context + NCCL channels (TP > 1)", "CUDA driver, NCCL"),
                    ServingItems.Item("warm-up activation peak", MemoryCategory.Activations, activations, device,
                        "max(forward at max_num_tokens, hidden states + fp32 logits of max_batch_size rows)", "TensorRT-LLM _torch/pyexecutor/_util.py KvCacheCreator",
                        new FormulaInput("max_num_tokens", maxNumTokens), new FormulaInput("max_batch_size", maxBatch)),
                    ServingItems.Item("KV cache", MemoryCategory.KvCache, blocks * blockBytes, device,
                        "⌊free × free_gpu_memory_fraction / block bytes⌋ × block bytes", "TensorRT-LLM KvCacheConfig",
                        new FormulaInput("free_gpu_memory_fraction", fraction), new FormulaInput("tokens_per_block", tokensPerBlock), new FormulaInput("blocks", blocks)),
                ],
            });
        }

        long tokens = minBlocks * tokensPerBlock;
        double concurrency = Math.Min(maxBatch, (double)tokens / maxSeqLen);
        string? error = minBlocks <= 0 ? "Insufficient GPU memory for the KV cache: no free memory is left after the weights and activations" : null;
        return new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = profile.Parameters,
            Devices = devices.ToImmutable(),
            Notes = error is null ? [] : [error],
            Settings = [new("tp_size", tp), new("free_gpu_memory_fraction", fraction), new("tokens_per_block", tokensPerBlock), new("max_num_tokens", maxNumTokens), new("max_batch_size", maxBatch)],
            Capacity = new ServingCapacity
            {
                KvCacheBytes = minBlocks * blockBytes0,
                KvCacheTokens = tokens,
                GpuBlocks = minBlocks,
                BlockSize = tokensPerBlock,
                MaxConcurrency = concurrency,
                MaxModelLen = Math.Min(maxSeqLen, tokens),
                EngineError = error,
            },
            PrintedFigures = ImmutableDictionary<string, double>.Empty
                .Add("weights_gib", ServingItems.GiB2(stage0Weights)).Add("gpu_blocks", minBlocks).Add("kv_tokens", tokens)
                .Add("max_concurrency", Math.Round(concurrency, 2)),
            LaunchCommand = string.Create(CultureInfo.InvariantCulture,
                $"trtllm-serve {model.Name} --tp_size {tp} --pp_size {layout.Pipeline} --max_batch_size {maxBatch} --max_num_tokens {maxNumTokens} --max_seq_len {maxSeqLen} --kv_cache_free_gpu_memory_fraction {fraction}"),
        };
    }
}
