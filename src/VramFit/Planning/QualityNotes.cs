using VramFit.Numerics;

namespace VramFit.Planning;

/// <summary>How much a precision choice is expected to cost in output quality.</summary>
public enum QualityRisk
{
    /// <summary>The reference (16-bit weights, 16-bit KV).</summary>
    None,

    /// <summary>Measured differences within noise on standard benchmarks.</summary>
    Negligible,

    /// <summary>Small, measurable perplexity increase; usually fine for chat and code on larger models.</summary>
    Low,

    /// <summary>Noticeable degradation on small models, long contexts or reasoning tasks.</summary>
    Moderate,

    /// <summary>Clear degradation; last resort to make a model fit.</summary>
    High,
}

/// <summary>The quality note shown beside a plan option: a risk level and a short, sourced explanation.</summary>
public sealed record QualityNote(QualityRisk Risk, string Note);

/// <summary>
/// Quality risks of weight formats and KV-cache types, each with its source. Used by the planner to rank
/// under <c>--goal quality</c> and to tell users what they trade for memory.
/// </summary>
public static class QualityNotes
{
    /// <summary>Risk of storing weights in <paramref name="format"/>.</summary>
    public static QualityNote ForWeights(WeightFormat format) => format.Kind switch
    {
        WeightFormatKind.Dense => new(QualityRisk.None, "16-bit weights: the reference"),
        WeightFormatKind.Fp8 => new(QualityRisk.Negligible,
            "FP8 W8A8: near-lossless on 8B+ models (vLLM docs, FP8 W8A8: accuracy recovered within noise on Open LLM benchmarks)"),
        WeightFormatKind.Int8WeightOnly or WeightFormatKind.BnbInt8 => new(QualityRisk.Negligible,
            "INT8 weight-only: no measurable degradation up to 175B (Dettmers et al. 2022, LLM.int8())"),
        WeightFormatKind.Int8SmoothQuant => new(QualityRisk.Negligible,
            "W8A8 SmoothQuant: negligible accuracy loss on OPT-175B, BLOOM-176B, Llama (Xiao et al. 2023, SmoothQuant)"),
        WeightFormatKind.Gptq or WeightFormatKind.Awq when format.Bits >= 8 => new(QualityRisk.Negligible,
            "8-bit GPTQ/AWQ: near-lossless (Frantar et al. 2022, GPTQ)"),
        WeightFormatKind.Gptq or WeightFormatKind.Awq when format.Bits >= 4 => new(QualityRisk.Low,
            "4-bit weight-only (W4A16): small perplexity increase, shrinking with model size (Frantar et al. 2022, GPTQ; Lin et al. 2023, AWQ)"),
        WeightFormatKind.Gptq or WeightFormatKind.Awq => new(QualityRisk.High,
            "2–3-bit weight-only: large perplexity increase below 70B (Frantar et al. 2022, GPTQ, 3-bit results)"),
        WeightFormatKind.BnbNf4 or WeightFormatKind.BnbFp4 => new(QualityRisk.Low,
            "NF4 (bitsandbytes): close to 16-bit on benchmarks (Dettmers et al. 2023, QLoRA), slower kernels than GPTQ/AWQ"),
        WeightFormatKind.Mxfp4 or WeightFormatKind.Nvfp4 => new(QualityRisk.Low,
            "4-bit floating point: low loss when the model was trained or calibrated for it (gpt-oss ships MXFP4 experts)"),
        WeightFormatKind.Ggml => Ggml(format.GgmlType),
        _ => new(QualityRisk.Moderate, "unknown format"),
    };

    /// <summary>Risk of a KV cache of <paramref name="kvType"/> (engine spelling: fp8, q8_0, q4_0, int4 …).</summary>
    public static QualityNote ForKvCache(string? kvType) => (kvType ?? "").Trim().ToLowerInvariant() switch
    {
        "" or "auto" or "bf16" or "fp16" or "f16" or "float16" or "bfloat16" => new(QualityRisk.None, "16-bit KV cache"),
        "fp8" or "fp8_e4m3" or "fp8_e5m2" => new(QualityRisk.Negligible,
            "FP8 KV cache: near-lossless, halves KV memory (vLLM docs, Quantized KV Cache)"),
        "q8_0" or "int8" => new(QualityRisk.Negligible, "8-bit KV cache: perplexity within noise (llama.cpp --cache-type-k q8_0 discussions)"),
        "q5_0" or "q5_1" or "iq4_nl" => new(QualityRisk.Low, "5-bit/4.5-bit KV: small perplexity increase"),
        "q4_0" or "q4_1" or "int4" => new(QualityRisk.Moderate,
            "4-bit KV cache: degrades long-context recall (llama.cpp q4_0 K-cache reports; transformers QuantizedCache docs recommend int4 only with a residual window)"),
        "int2" => new(QualityRisk.High, "2-bit KV cache: clear degradation"),
        var other => new(QualityRisk.Low, $"{other} KV cache"),
    };

    /// <summary>
    /// GGUF types: perplexity increase at Llama-3-8B as printed by llama.cpp's quantize tool
    /// (tools/quantize/quantize.cpp QUANT_OPTIONS, 2026-04 master): Q8_0 +0.0026, Q6_K +0.0217, Q5_K_M +0.0569,
    /// Q4_K_M +0.1754, Q4_0 +0.4685, Q2_K +3.5199.
    /// </summary>
    private static QualityNote Ggml(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => new(QualityRisk.None, "16-bit GGUF"),
        GgmlType.Q8_0 => new(QualityRisk.Negligible, "Q8_0: +0.0026 ppl at Llama-3-8B (llama.cpp quantize table)"),
        GgmlType.Q6_K => new(QualityRisk.Negligible, "Q6_K: +0.0217 ppl at Llama-3-8B (llama.cpp quantize table)"),
        GgmlType.Q5_K or GgmlType.Q5_0 or GgmlType.Q5_1 => new(QualityRisk.Low, "Q5_K_M: +0.0569 ppl at Llama-3-8B (llama.cpp quantize table)"),
        GgmlType.Q4_K or GgmlType.IQ4_XS or GgmlType.IQ4_NL => new(QualityRisk.Low, "Q4_K_M: +0.1754 ppl at Llama-3-8B (llama.cpp quantize table); IQ4_XS similar at 4.25 bpw"),
        GgmlType.Q4_0 or GgmlType.Q4_1 => new(QualityRisk.Moderate, "Q4_0: +0.4685 ppl at Llama-3-8B (llama.cpp quantize table)"),
        GgmlType.Q3_K or GgmlType.IQ3_XXS or GgmlType.IQ3_S => new(QualityRisk.Moderate, "3-bit GGUF: between Q4_0 and Q2_K in llama.cpp's quantize table; needs an imatrix"),
        _ => new(QualityRisk.High, "2-bit GGUF: Q2_K +3.52 ppl at Llama-3-8B (llama.cpp quantize table)"),
    };
}
