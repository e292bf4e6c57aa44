using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Engines.Transformers;

/// <summary>Attention implementation of a transformers model (<c>attn_implementation</c>).</summary>
public enum TransformersAttention
{
    /// <summary>Python matmul + softmax: materializes the batch × heads × q × kv score matrix.</summary>
    Eager,

    /// <summary>torch.nn.functional.scaled_dot_product_attention (flash / memory-efficient kernels).</summary>
    Sdpa,

    /// <summary>flash-attn 2/3 kernels.</summary>
    Flash,
}

/// <summary>How logits are produced at the prefill step.</summary>
public enum TransformersLogits
{
    /// <summary><c>generate()</c>: only the last position's logits (transformers ≥ 4.45 passes logits_to_keep=1).</summary>
    LastToken,

    /// <summary>A plain <c>model(**inputs)</c> forward (evaluation, perplexity): logits for every position.</summary>
    AllTokens,
}

/// <summary>
/// Resolved settings of one transformers estimate; a value type so the inner arithmetic of
/// <see cref="TransformersMemory"/> allocates nothing.
/// </summary>
public readonly record struct TransformersSettings
{
    /// <summary>Sequences in the batch.</summary>
    public required int Batch { get; init; }

    /// <summary>Tokens cached per sequence at the end of generation (prompt + new tokens).</summary>
    public required long ContextTokens { get; init; }

    /// <summary>Tokens of the prompt processed by the prefill forward (the activation peak).</summary>
    public required long PromptTokens { get; init; }

    public required TransformersAttention Attention { get; init; }

    public required TransformersLogits Logits { get; init; }

    /// <summary>Bytes per activation element (the compute dtype: 2 for bf16/fp16, 4 for fp32).</summary>
    public required int ActivationBytes { get; init; }

    /// <summary>Bits per cached K/V element (16 for a bf16 cache, 4 or 2 for a QuantizedCache).</summary>
    public required int KvBits { get; init; }

    /// <summary>Preallocated <c>StaticCache</c> (no growth copies) instead of the default DynamicCache.</summary>
    public required bool StaticCache { get; init; }

    /// <summary>GPUs the model is spread over by <c>device_map="auto"</c>.</summary>
    public required int Gpus { get; init; }

    /// <summary>The setting names this engine accepts (Python keyword names of from_pretrained/generate).</summary>
    public static readonly IReadOnlyCollection<string> Names =
    [
        "attn_implementation", "torch_dtype", "batch_size", "max_length", "prompt_tokens",
        "cache_implementation", "kv_bits", "logits", "num_gpus",
    ];

    /// <summary>Resolves the workload and the engine-native settings (a native setting wins).</summary>
    public static TransformersSettings Resolve(EstimateRequest request, ScalarType computeType)
    {
        var s = request.Settings;
        var w = request.Workload;
        s.EnsureKnown("transformers", Names);
        long context = s.GetLong("max_length", w.ContextTokens ?? DefaultContext, 1, Units.TokenCount.Limit);
        long prompt = s.GetLong("prompt_tokens", context, 1, context);
        int batch = s.GetInt("batch_size", w.Batch ?? 1, 1, 1 << 20);
        var attention = ParseAttention(s.GetString("attn_implementation") ?? w.Attention ?? "sdpa");
        var logits = (s.GetString("logits") ?? "generate").Trim().ToLowerInvariant() switch
        {
            "generate" or "last" => TransformersLogits.LastToken,
            "forward" or "all" => TransformersLogits.AllTokens,
            var other => throw new InvalidSettingException("logits", $"'{other}' is not generate or forward"),
        };
        string cache = (s.GetString("cache_implementation") ?? "dynamic").Trim().ToLowerInvariant();
        int kvBits = (int)s.GetLong("kv_bits", KvBitsOf(w.KvCacheType, computeType), 2, 32);
        if (cache == "quantized" && !s.Has("kv_bits") && w.KvCacheType is null)
            kvBits = 4;
        if (kvBits is not (2 or 4 or 8 or 16 or 32))
            throw new InvalidSettingException("kv_bits", $"{kvBits} is not 2, 4, 8, 16 or 32");
        return new TransformersSettings
        {
            Batch = batch,
            ContextTokens = context,
            PromptTokens = prompt,
            Attention = attention,
            Logits = logits,
            ActivationBytes = computeType == ScalarType.F32 ? 4 : 2,
            KvBits = kvBits,
            StaticCache = cache switch
            {
                "dynamic" or "quantized" or "offloaded" or "hybrid" => false,
                "static" or "sliding_window" => true,
                _ => throw new InvalidSettingException("cache_implementation", $"'{cache}' is not dynamic, static or quantized"),
            },
            Gpus = s.GetInt("num_gpus", request.Deployment.TotalGpus, 1, 4096),
        };
    }

    /// <summary>Context assumed when none is given (llama.cpp's default n_ctx is the same 4096).</summary>
    public const long DefaultContext = 4096;

    private static TransformersAttention ParseAttention(string text) => text.Trim().ToLowerInvariant() switch
    {
        "eager" => TransformersAttention.Eager,
        "sdpa" => TransformersAttention.Sdpa,
        "flash" or "flash_attention_2" or "flash_attention_3" or "fa2" or "flash-attn" => TransformersAttention.Flash,
        var other => throw new InvalidSettingException("attn_implementation", $"'{other}' is not eager, sdpa or flash_attention_2"),
    };

    private static int KvBitsOf(string? kvType, ScalarType computeType)
    {
        if (kvType is null)
            return computeType == ScalarType.F32 ? 32 : 16;
        return kvType.Trim().ToLowerInvariant() switch
        {
            "bf16" or "fp16" or "f16" or "auto" => 16,
            "fp32" or "f32" => 32,
            "int8" or "q8" => 8,
            "int4" or "q4" => 4,
            "int2" or "q2" => 2,
            var other => throw new InvalidSettingException("kv-dtype",
                $"'{other}' is not a transformers cache type: bf16/fp16/fp32, or int8/int4/int2 (QuantizedCache); fp8 KV needs an engine such as vLLM"),
        };
    }
}
