using VramFit.Engines.Serving;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.Vllm;

/// <summary>
/// vLLM's engine arguments as they apply to memory, resolved with the defaults of the given release
/// (vllm/engine/arg_utils.py, vllm/config). Names are vLLM's own, '-' written '_'.
/// </summary>
public sealed record VllmSettings
{
    /// <summary>Every setting name the vLLM model accepts (others are rejected, naming these).</summary>
    public static IReadOnlyCollection<string> Names { get; } =
    [
        "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "enable_expert_parallel",
        "gpu_memory_utilization", "max_model_len", "max_num_seqs", "max_num_batched_tokens", "dtype", "quantization",
        "kv_cache_dtype", "block_size", "enforce_eager", "cpu_offload_gb", "enable_prefix_caching",
        "enable_chunked_prefill", "engine_version", "num_gpu_blocks_override", "use_flashinfer_sampler",
        "kv_cache_memory_bytes", "estimate_cudagraphs", "allow_long_max_model_len", "usage_context",
        "swap_space", "trust_remote_code", "enable_lora", "max_lora_rank", "max_loras", "seed", "served_model_name",
        "printed_rank",
    ];

    public required VllmVersion Version { get; init; }
    public required ParallelLayout Parallel { get; init; }
    public required double GpuMemoryUtilization { get; init; }
    public required long MaxModelLen { get; init; }
    public required int MaxNumSeqs { get; init; }
    public required long MaxNumBatchedTokens { get; init; }
    public required ScalarType Dtype { get; init; }
    public required WeightFormat Weights { get; init; }
    public string? Quantization { get; init; }
    public required KvCacheDtype KvDtype { get; init; }
    public required int BlockSize { get; init; }
    public required bool EnforceEager { get; init; }
    public required long CpuOffloadBytes { get; init; }
    public bool PrefixCaching { get; init; }
    public long? NumGpuBlocksOverride { get; init; }
    public required bool FlashInferSampler { get; init; }

    /// <summary><c>--kv-cache-memory</c> (0.10.2+, PR #21489): KV bytes per rank given by the user, skipping the budget.</summary>
    public long? KvCacheMemoryBytes { get; init; }

    /// <summary>
    /// VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS: graphs are profiled before the KV cache is sized and their
    /// estimate is charged to the budget (gpu_worker.py). Opt-in when PR #30515 introduced it (Dec 2025), on by
    /// default from 0.21.0 ("CUDA graph memory profiling is enabled (default since v0.21.0)", logged by 0.27.1).
    /// Off: graphs are captured afterwards, on top of gpu_memory_utilization.
    /// </summary>
    public bool EstimateCudaGraphs { get; init; }

    /// <summary>LoRA slots reserved at load (<c>--enable-lora</c>): rank (default 16) × max_loras (default 1); 0 = off.</summary>
    public int LoraRank { get; init; }

    public int MaxLoras { get; init; } = 1;

    /// <summary>
    /// Whose profile line the per-rank GiB figures (activation peak, KV cache) print under V0 with TP &gt; 1: the driver's
    /// (TP rank 0, the default) or another worker's, which runs no sampler. Blocks and tokens are engine-wide either way.
    /// </summary>
    public VllmPrintedRank PrintedRank { get; init; }

    /// <summary>Resolves <paramref name="request"/>'s settings, filling vLLM's defaults for its version and GPU.</summary>
    public static VllmSettings Resolve(EstimateRequest request)
    {
        var s = request.Settings;
        s.EnsureKnown("vLLM", Names);
        var model = request.Model;
        var version = VllmVersion.Parse(s.GetString("engine_version"));
        var layout = new ParallelLayout(
            s.GetInt("tensor_parallel_size", 1, 1, 4096),
            s.GetInt("pipeline_parallel_size", 1, 1, 4096),
            s.GetInt("data_parallel_size", 1, 1, 4096),
            s.GetBool("enable_expert_parallel", false));

        long modelMax = model.MaxContext > 0 ? model.MaxContext : 0;
        long maxModelLen = s.Has("max_model_len")
            ? s.GetLong("max_model_len", 0, 1, 1L << 30)
            : request.Workload.ContextTokens ?? (modelMax > 0 ? modelMax
                : throw new InvalidSettingException("max_model_len", "the model does not state max_position_embeddings; give --max-model-len"));
        // VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 lifts this check (vllm/config ModelConfig._get_and_verify_max_len)
        if (modelMax > 0 && maxModelLen > modelMax && !s.GetBool("allow_long_max_model_len", false))
            throw new InvalidSettingException("max_model_len",
                $"User-specified max_model_len ({maxModelLen}) is greater than the derived max_model_len (max_position_embeddings={modelMax} in model's config.json).");

        var (defaultSeqs, defaultBatched) = DefaultBatching(version, request.Deployment.Gpu, maxModelLen, s, model);
        int maxNumSeqs = s.GetInt("max_num_seqs", request.Workload.Batch ?? defaultSeqs, 1, 1 << 20);
        long maxBatched = s.GetLong("max_num_batched_tokens", defaultBatched, 1, 1L << 30);

        var dtype = ResolveDtype(s.GetString("dtype"), model.Dtype, request.Deployment.Gpu);
        var quantization = s.GetString("quantization");
        var weights = RuntimeLayout(request.Workload.WeightFormat ?? model.CheckpointFormat ?? FormatOfQuantization(quantization, dtype) ?? WeightFormat.DenseOf(dtype),
            quantization, request.Deployment.Gpu, version);
        if (weights.Kind == WeightFormatKind.Dense && weights.DenseType != dtype)
            weights = WeightFormat.DenseOf(dtype);

        return new VllmSettings
        {
            Version = version,
            Parallel = layout,
            // 0.9 since the first release (vllm/config.py CacheConfig.gpu_memory_utilization)
            GpuMemoryUtilization = s.GetDouble("gpu_memory_utilization", 0.9, 0.01, 1.0),
            MaxModelLen = maxModelLen,
            MaxNumSeqs = maxNumSeqs,
            MaxNumBatchedTokens = maxBatched,
            Dtype = dtype,
            Weights = weights,
            Quantization = quantization,
            KvDtype = KvCacheDtype.Parse(s.GetString("kv_cache_dtype") ?? request.Workload.KvCacheType, dtype),
            // CacheConfig.block_size default 16 on CUDA
            BlockSize = s.GetInt("block_size", 16, 1, 1 << 16),
            EnforceEager = s.GetBool("enforce_eager", false),
            CpuOffloadBytes = (long)(s.GetDouble("cpu_offload_gb", 0, 0, 1 << 20) * (1L << 30)),
            PrefixCaching = s.GetBool("enable_prefix_caching", version.V1),
            NumGpuBlocksOverride = s.Has("num_gpu_blocks_override") ? s.GetLong("num_gpu_blocks_override", 0, 1, long.MaxValue) : null,
            FlashInferSampler = s.GetBool("use_flashinfer_sampler", DefaultFlashInferSampler(version)),
            // LoRAConfig defaults: max_lora_rank 16, max_loras 1 (vllm/config LoRAConfig)
            LoraRank = s.GetBool("enable_lora", false) ? s.GetInt("max_lora_rank", 16, 1, 1024) : 0,
            MaxLoras = s.GetInt("max_loras", 1, 1, 1024),
            PrintedRank = (s.GetString("printed_rank") ?? "driver").Trim().ToLowerInvariant() switch
            {
                "driver" or "0" => VllmPrintedRank.Driver,
                "worker" => VllmPrintedRank.Worker,
                var other => throw new InvalidSettingException("printed_rank", $"'{other}' is neither driver nor worker"),
            },
            KvCacheMemoryBytes = s.Has("kv_cache_memory_bytes") ? s.GetLong("kv_cache_memory_bytes", 0, 0, long.MaxValue) : null,
            EstimateCudaGraphs = s.GetBool("estimate_cudagraphs", version.V1 && version.AtLeast(21)),
        };
    }

    /// <summary>
    /// Default max_num_seqs and max_num_batched_tokens. V1 (arg_utils.py <c>_set_default_args_v1</c>, 0.9+):
    /// the OpenAI server uses 1024 sequences and 8192 tokens on GPUs with ≥ 70 GiB other than A100, else
    /// 256 and 2048; the offline <c>LLM</c> class (<c>usage_context</c> "llm") 1024/16384 and 256/8192. V0: 256 sequences; with chunked prefill (default on when max_model_len &gt; 32K) 2048
    /// tokens (512 before 0.6.2), otherwise max(max_model_len, 2048) so a whole prompt fits one step
    /// (max(max_model_len, 2560) in 0.2.x).
    /// </summary>
    private static (int Seqs, long Tokens) DefaultBatching(VllmVersion version, Accelerator gpu, long maxModelLen, EngineSettings s, ModelDescription model)
    {
        if (version.V1)
        {
            bool big = gpu.MemoryBytes >= 70L * (1L << 30) && !gpu.Name.Contains("A100", StringComparison.OrdinalIgnoreCase);
            bool offline = (s.GetString("usage_context") ?? "server").Trim().ToLowerInvariant() switch
            {
                "server" or "openai_api_server" => false,
                "llm" or "llm_class" => true,
                var other => throw new InvalidSettingException("usage_context", $"'{other}' is neither server nor llm"),
            };
            return (big, offline) switch
            {
                (true, false) => (1024, 8192),
                (true, true) => (1024, 16384),
                (false, false) => (256, 2048),
                (false, true) => (256, 8192),
            };
        }

        bool chunked = s.GetBool("enable_chunked_prefill", V0ChunkedPrefillByDefault(version, maxModelLen, s.GetBool("enable_lora", false), model));
        if (chunked)
            return (256, version.AtLeast(6, 2) ? 2048 : 512);
        return (256, Math.Max(maxModelLen, version.AtLeast(3, 0) ? 2048 : 2560));
    }

    /// <summary>
    /// Whether V0 turns chunked prefill on when <c>--enable-chunked-prefill</c> is not given (vllm/engine/arg_utils.py
    /// <c>create_engine_config</c>, 0.5.x–0.10): only for max_model_len above 32K ("to avoid OOM errors in the initial
    /// memory profiling phase"), and not with LoRA or a sliding-window model; from 0.7 multimodal (and MLA) models
    /// keep it off under V0 ("disabled by default in V0, but enabled by design in V1").
    /// </summary>
    internal static bool V0ChunkedPrefillByDefault(VllmVersion version, long maxModelLen, bool lora, ModelDescription model)
    {
        if (!version.AtLeast(5, 0) || maxModelLen <= 32768 || lora)
            return false;
        if (version.AtLeast(7, 0) && (model.VisionEncoderParameters > 0 || model.HasLayers(AttentionKind.Mla)))
            return false;
        return !model.HasLayers(AttentionKind.SlidingWindow);
    }

    /// <summary>
    /// The layout the weights have once vLLM has processed them after loading (inside "Model loading took"). A
    /// symmetric 4- or 8-bit GPTQ checkpoint runs on Marlin with <c>--quantization gptq_marlin</c>, and by itself on
    /// compute capability ≥ 8.0 when no method is given (GPTQMarlinConfig.override_quantization_method, from 0.5;
    /// <c>--quantization gptq</c> forces the exllama kernel, which keeps the checkpoint's tensors). Marlin repacks qweight and permutes the scales at the same size, but replaces qzeros with an empty
    /// tensor (symmetric types uint4b8/uint8b128 need none) and g_idx too unless desc_act
    /// (MarlinLinearKernel.process_weights_after_loading, marlin_make_empty_g_idx).
    /// </summary>
    private static WeightFormat RuntimeLayout(WeightFormat checkpoint, string? quantization, Accelerator gpu, VllmVersion version)
    {
        bool ampere = gpu.ComputeCapabilityNumber >= 8.0;
        string? method = quantization?.Trim().ToLowerInvariant();
        bool marlin = method == "gptq_marlin" || (method is null && ampere && version.AtLeast(5, 0));
        if (checkpoint.Kind != WeightFormatKind.Gptq || !checkpoint.Symmetric || checkpoint.Bits is not (4 or 8) || checkpoint.GroupSize is not (-1 or 32 or 64 or 128) || !marlin)
            return checkpoint;
        return checkpoint with { HasZeroPoints = false, HasGroupIndex = checkpoint.ActOrder };
    }

    /// <summary>
    /// The weight layout implied by <c>--quantization</c> when the model description carries no
    /// quantization_config: "fp8" quantizes a 16-bit checkpoint at load time to FP8 with one fp32 scale per
    /// tensor (Fp8LinearMethod, dynamic activation scales); "bitsandbytes" loads NF4; "mxfp4" is gpt-oss's
    /// expert-only MXFP4; GPTQ/AWQ default to 4-bit, group 128 (the checkpoint config, when known, wins).
    /// "bitsandbytes" here quantizes a 16-bit checkpoint while loading, vision encoder included.
    /// </summary>
    private static WeightFormat? FormatOfQuantization(string? quantization, ScalarType dtype) => quantization?.Trim().ToLowerInvariant() switch
    {
        null or "" or "none" => null,
        "fp8" => WeightFormat.Parse("fp8", dtype),
        // in-flight quantization of a 16-bit checkpoint: vLLM's BitsAndBytesConfig skips no module by default, so the
        // vision blocks (built with the quant config, e.g. qwen2_5_vl.py Qwen2_5_VisionMLP) are quantized as well
        "bitsandbytes" => WeightFormat.Parse("nf4", dtype) with { QuantizesVisionEncoder = true },
        "mxfp4" => WeightFormat.Parse("mxfp4", dtype) with { ExpertsOnly = true },
        "gptq" or "gptq_marlin" or "gptq_bitblas" => WeightFormat.Parse("gptq-int4"),
        "awq" or "awq_marlin" => WeightFormat.Parse("awq-int4"),
        "compressed-tensors" or "compressed_tensors" or "modelopt" or "modelopt_fp4" => throw new InvalidSettingException("quantization",
            $"'{quantization}' takes its layout from the checkpoint's quantization_config, which this model description lacks"),
        _ => throw new InvalidSettingException("quantization", $"'{quantization}' is not a quantization method this model knows (fp8, gptq, gptq_marlin, awq, awq_marlin, bitsandbytes, mxfp4, compressed-tensors)"),
    };

    /// <summary>
    /// Whether top-k/top-p runs in FlashInfer (VLLM_USE_FLASHINFER_SAMPLER unset; vllm/v1/sample/ops/topk_topp_sampler.py).
    /// V0 never does. V1 does where FlashInfer is installed and the sampler is on by default: before 0.10.2 (the
    /// vllm-openai image ships FlashInfer; a 0.10.1 log's profile peak matches its footprint), not in 0.10.2 (its logs
    /// show the PyTorch sort's footprint), in 0.11.0 (flashinfer-python became a dependency), not from 0.11.1 (PR #26859
    /// "Disable FlashInfer sampler by default", 2025-10-15; a 0.16.0 log on two L40S matches the sort's footprint),
    /// and again from 0.20 (PR #40376 "Enable FlashInfer top-k/top-p sampler by default", merged in the spring of 2026).
    /// </summary>
    internal static bool DefaultFlashInferSampler(VllmVersion version) =>
        version.V1 && (!version.AtLeast(10, 2) || (version.AtLeast(11, 0) && !version.AtLeast(11, 1)) || version.AtLeast(20, 0));

    private static ScalarType ResolveDtype(string? text, ScalarType modelDtype, Accelerator gpu)
    {
        bool noBf16 = gpu.ComputeCapabilityNumber < 8.0;
        if (text is null || text.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            // "auto": the config's torch_dtype, but float32 checkpoints are served in bfloat16/float16, and bfloat16
            // falls back to float16 below compute capability 8.0 (ModelConfig._get_and_verify_dtype / platform check)
            var auto = modelDtype is ScalarType.F32 ? ScalarType.BF16 : modelDtype;
            return auto == ScalarType.BF16 && noBf16 ? ScalarType.F16 : auto;
        }

        if (ScalarTypes.TryParse(text, out var t) && t is ScalarType.BF16 or ScalarType.F16 or ScalarType.F32)
        {
            if (t == ScalarType.BF16 && noBf16)
                throw new InvalidSettingException("dtype", $"Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your {gpu.Name} GPU has compute capability {gpu.ComputeCapability}. Use --dtype=half.");
            return t;
        }

        throw new InvalidSettingException("dtype", $"'{text}' is not a vLLM dtype (auto, half, float16, bfloat16, float, float32)");
    }
}

/// <summary>Whose profile line a V0 run's per-rank figures are read from.</summary>
public enum VllmPrintedRank
{
    /// <summary>TP rank 0, which also samples.</summary>
    Driver,

    /// <summary>Any other TP rank: no sampler in its profile run.</summary>
    Worker,
}
