namespace VramFit.Sources.Safetensors;

/// <summary>
/// Element sizes of safetensors dtypes, as the format's reference implementation defines them
/// (huggingface/safetensors, safetensors/src/tensor.rs <c>Dtype</c> and <c>bitsize</c>). Sub-byte types
/// (F4, F6_*) store elements × bits / 8 bytes.
/// </summary>
public static class SafetensorsDtypes
{
    private static readonly Dictionary<string, int> BitsByName = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8,
        ["F4"] = 4,
        ["F6_E2M3"] = 6,
        ["F6_E3M2"] = 6,
        ["U8"] = 8,
        ["I8"] = 8,
        ["F8_E5M2"] = 8,
        ["F8_E4M3"] = 8,
        ["F8_E8M0"] = 8,
        ["E8M0"] = 8,
        ["I16"] = 16,
        ["U16"] = 16,
        ["F16"] = 16,
        ["BF16"] = 16,
        ["I32"] = 32,
        ["U32"] = 32,
        ["F32"] = 32,
        ["C64"] = 64,
        ["F64"] = 64,
        ["I64"] = 64,
        ["U64"] = 64,
    };

    /// <summary>Every dtype name the reader accepts.</summary>
    public static IReadOnlyCollection<string> Names => BitsByName.Keys;

    /// <summary>Bits per element of <paramref name="dtype"/>; false for names the format does not define.</summary>
    public static bool TryGetBits(string dtype, out int bits) => BitsByName.TryGetValue(dtype, out bits);

    /// <summary>Exact stored bytes of <paramref name="elements"/> elements, or null when they do not fill whole bytes.</summary>
    public static long? Bytes(string dtype, long elements)
    {
        if (!TryGetBits(dtype, out int bits))
            return null;
        if (elements > long.MaxValue / bits)
            return null;
        long totalBits = elements * bits;
        return totalBits % 8 == 0 ? totalBits / 8 : null;
    }
}
