using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Engines.Serving;

/// <summary>
/// The element type of a serving engine's paged KV cache as its <c>--kv-cache-dtype</c> names it.
/// "auto" follows the model dtype; "fp8"/"fp8_e4m3"/"fp8_e5m2" store one byte per element;
/// "fp8_ds_mla" is vLLM's DeepSeek-V3.2 MLA layout (656 bytes per token, see <see cref="BytesPerMlaToken"/>).
/// </summary>
public readonly record struct KvCacheDtype(string Name, int ElementBytes, bool DeepSeekMlaLayout = false)
{
    /// <summary>Parses <paramref name="text"/> (null or "auto" = <paramref name="modelDtype"/>).</summary>
    public static KvCacheDtype Parse(string? text, ScalarType modelDtype, string setting = "kv_cache_dtype")
    {
        var s = (text ?? "auto").Trim().ToLowerInvariant();
        return s switch
        {
            "auto" => new("auto", modelDtype is ScalarType.F32 ? 4 : 2),
            "fp8" or "fp8_e4m3" or "fp8_e5m2" or "fp8_inc" => new(s, 1),
            // vLLM 0.11+ FlashMLA sparse (DeepSeek-V3.2): 512 fp8 latent values, 4 fp32 tile scales,
            // 64 bf16 RoPE values = 512 + 16 + 128 = 656 B/token (vllm/v1/kv_cache_interface.py MLAAttentionSpec)
            "fp8_ds_mla" => new(s, 1, DeepSeekMlaLayout: true),
            "bf16" or "bfloat16" or "fp16" or "float16" or "half" => new(s, 2),
            "float32" or "fp32" => new(s, 4),
            _ => throw new InvalidSettingException(setting, $"'{text}' is not a KV cache dtype (auto, fp8, fp8_e4m3, fp8_e5m2, fp8_ds_mla, bfloat16, float16)"),
        };
    }

    /// <summary>Bytes one token occupies in an MLA layer's latent cache (no K/V split, no TP split).</summary>
    public long BytesPerMlaToken(int kvLoraRank, int ropeDim) => DeepSeekMlaLayout
        ? kvLoraRank + kvLoraRank / 128 * 4 + ropeDim * 2
        : (long)(kvLoraRank + ropeDim) * ElementBytes;
}
