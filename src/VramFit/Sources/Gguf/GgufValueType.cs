namespace VramFit.Sources.Gguf;

/// <summary>
/// GGUF metadata value types with their on-disk ids (ggml/include/gguf.h <c>enum gguf_type</c>).
/// </summary>
public enum GgufValueType
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Names and sizes of <see cref="GgufValueType"/>.</summary>
public static class GgufValueTypes
{
    /// <summary>The element-type name <see cref="GgufArray.ElementType"/> uses ("uint32", "string", "array" …).</summary>
    public static string Name(this GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => "uint8",
        GgufValueType.Int8 => "int8",
        GgufValueType.UInt16 => "uint16",
        GgufValueType.Int16 => "int16",
        GgufValueType.UInt32 => "uint32",
        GgufValueType.Int32 => "int32",
        GgufValueType.Float32 => "float32",
        GgufValueType.Bool => "bool",
        GgufValueType.String => "string",
        GgufValueType.Array => "array",
        GgufValueType.UInt64 => "uint64",
        GgufValueType.Int64 => "int64",
        GgufValueType.Float64 => "float64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a GGUF value type"),
    };

    /// <summary>Bytes of a fixed-size value, or 0 for strings and arrays.</summary>
    public static int FixedSize(this GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    /// <summary>Whether <paramref name="id"/> is a value type id.</summary>
    public static bool IsDefined(uint id) => id <= (uint)GgufValueType.Float64;
}
