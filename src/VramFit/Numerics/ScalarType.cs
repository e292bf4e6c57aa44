namespace VramFit.Numerics;

/// <summary>
/// Element types of dense (non-block) tensors as checkpoints and frameworks name them: safetensors dtypes,
/// torch dtypes, KV-cache dtypes of the serving engines. Sub-byte types are expressed in bits.
/// </summary>
public enum ScalarType
{
    F64,
    F32,
    F16,
    BF16,
    F8E4M3,
    F8E5M2,
    F8E8M0,
    F4E2M1,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
    Int4,
}

public static class ScalarTypes
{
    /// <summary>Bits per element.</summary>
    public static int Bits(this ScalarType t) => t switch
    {
        ScalarType.F64 or ScalarType.I64 => 64,
        ScalarType.F32 or ScalarType.I32 => 32,
        ScalarType.F16 or ScalarType.BF16 or ScalarType.I16 => 16,
        ScalarType.F8E4M3 or ScalarType.F8E5M2 or ScalarType.F8E8M0 or ScalarType.I8 or ScalarType.U8 or ScalarType.Bool => 8,
        ScalarType.F4E2M1 or ScalarType.Int4 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>Bytes per element for byte-sized types; throws for sub-byte types.</summary>
    public static int Bytes(this ScalarType t) => t.Bits() >= 8
        ? t.Bits() / 8
        : throw new InvalidOperationException($"{t} is a sub-byte type; use Bits()");

    /// <summary>
    /// Parses names from HF configs, torch, safetensors headers and engine options:
    /// "bfloat16", "bf16", "BF16", "float16", "fp16", "half", "float32", "F8_E4M3", "fp8", "fp8_e5m2" ….
    /// </summary>
    public static bool TryParse(string? name, out ScalarType type)
    {
        type = (name ?? "").Trim().ToLowerInvariant().Replace("torch.", "", StringComparison.Ordinal) switch
        {
            "f64" or "float64" or "double" => ScalarType.F64,
            "f32" or "fp32" or "float32" or "float" => ScalarType.F32,
            "f16" or "fp16" or "float16" or "half" => ScalarType.F16,
            "bf16" or "bfloat16" => ScalarType.BF16,
            "f8_e4m3" or "f8_e4m3fn" or "float8_e4m3fn" or "fp8" or "fp8_e4m3" or "e4m3" => ScalarType.F8E4M3,
            "f8_e5m2" or "float8_e5m2" or "fp8_e5m2" or "e5m2" => ScalarType.F8E5M2,
            "f8_e8m0" or "e8m0" or "float8_e8m0fnu" => ScalarType.F8E8M0,
            "f4_e2m1" or "fp4" => ScalarType.F4E2M1,
            "i64" or "int64" => ScalarType.I64,
            "i32" or "int32" => ScalarType.I32,
            "i16" or "int16" => ScalarType.I16,
            "i8" or "int8" => ScalarType.I8,
            "u8" or "uint8" => ScalarType.U8,
            "bool" => ScalarType.Bool,
            _ => (ScalarType)(-1),
        };
        return (int)type >= 0;
    }

    /// <summary>The short name used in reports: "bf16", "f16", "fp8_e4m3" ….</summary>
    public static string DisplayName(this ScalarType t) => t switch
    {
        ScalarType.F8E4M3 => "fp8_e4m3",
        ScalarType.F8E5M2 => "fp8_e5m2",
        ScalarType.F8E8M0 => "e8m0",
        ScalarType.F4E2M1 => "fp4_e2m1",
        _ => t.ToString().ToLowerInvariant(),
    };
}
