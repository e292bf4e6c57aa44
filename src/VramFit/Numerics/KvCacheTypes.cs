using VramFit.Errors;

namespace VramFit.Numerics;

/// <summary>
/// KV-cache element types by the names engines give them: "auto"/"bf16"/"fp16" (the model's dtype), "fp8",
/// "fp8_e5m2", ggml types ("q8_0", "q4_0", "iq4_nl"), and transformers' QuantizedCache widths ("int8", "int4",
/// "int2"). One parser for the engine-neutral parts of the code (rule of thumb, planner, web); each engine
/// model still validates the names it accepts.
/// </summary>
public static class KvCacheTypes
{
    /// <summary>Bits per cached element (ggml block types include their scales: q8_0 = 8.5); null = the default.</summary>
    public static double Bits(string? name, ScalarType modelDtype)
    {
        var s = (name ?? "").Trim().ToLowerInvariant();
        if (s is "" or "auto")
            return modelDtype.Bits();
        if (ScalarTypes.TryParse(s, out var scalar))
            return scalar.Bits();
        if (GgmlTypes.TryParse(s, out var ggml))
            return ggml.BitsPerWeight;
        return s switch
        {
            "int4" or "q4" => 4,
            "int2" or "q2" => 2,
            _ => throw new InvalidSettingException("kv-dtype", $"unknown KV cache type '{name}' (bf16, fp16, fp8, fp8_e5m2, q8_0, q4_0, int4 …)"),
        };
    }

    /// <summary>
    /// A dense type with the same bytes per element, for arithmetic that takes a <see cref="ScalarType"/> (the
    /// roofline): up to 4.5 bits → 4-bit, up to 8.5 → one byte, else the model's 16- or 32-bit type.
    /// </summary>
    public static ScalarType ScalarOf(string? name, ScalarType modelDtype)
    {
        double bits = Bits(name, modelDtype);
        var s = (name ?? "").Trim().ToLowerInvariant();
        return bits switch
        {
            <= 4.5 => ScalarType.Int4,
            <= 8.5 => s == "fp8_e5m2" ? ScalarType.F8E5M2 : s.StartsWith("fp8", StringComparison.Ordinal) ? ScalarType.F8E4M3 : ScalarType.I8,
            >= 32 => ScalarType.F32,
            _ => ScalarType.BF16,
        };
    }
}
