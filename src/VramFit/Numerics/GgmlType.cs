namespace VramFit.Numerics;

/// <summary>
/// ggml tensor types with their on-disk id. Ids are those of ggml/include/ggml.h <c>enum ggml_type</c>
/// (ids 4, 5 and 31–33 are retired and never appear in current files).
/// </summary>
public enum GgmlType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}

/// <summary>Block layout of a ggml type: elements per block and bytes per block.</summary>
public readonly record struct GgmlTypeTraits(GgmlType Type, string Name, int BlockSize, int TypeSize)
{
    /// <summary>Bytes of one row of <paramref name="elements"/> elements (must be a multiple of the block size).</summary>
    public long RowBytes(long elements) => elements / BlockSize * TypeSize;

    /// <summary>Average bits per weight of this type.</summary>
    public double BitsPerWeight => TypeSize * 8.0 / BlockSize;
}

/// <summary>
/// The block sizes and block byte sizes of every ggml type. Source: ggml/src/ggml.c <c>type_traits</c>
/// and gguf-py <c>GGML_QUANT_SIZES</c> (the table in shared/docs/ENGINE-MEMORY-FACTS.md).
/// </summary>
public static class GgmlTypes
{
    private static readonly GgmlTypeTraits?[] ById = Build();

    private static GgmlTypeTraits?[] Build()
    {
        var table = new GgmlTypeTraits?[40];
        void Add(GgmlType t, int block, int size) => table[(int)t] = new GgmlTypeTraits(t, Canonical(t), block, size);
        Add(GgmlType.F32, 1, 4);
        Add(GgmlType.F16, 1, 2);
        Add(GgmlType.Q4_0, 32, 18);
        Add(GgmlType.Q4_1, 32, 20);
        Add(GgmlType.Q5_0, 32, 22);
        Add(GgmlType.Q5_1, 32, 24);
        Add(GgmlType.Q8_0, 32, 34);
        Add(GgmlType.Q8_1, 32, 36);
        Add(GgmlType.Q2_K, 256, 84);
        Add(GgmlType.Q3_K, 256, 110);
        Add(GgmlType.Q4_K, 256, 144);
        Add(GgmlType.Q5_K, 256, 176);
        Add(GgmlType.Q6_K, 256, 210);
        Add(GgmlType.Q8_K, 256, 292);
        Add(GgmlType.IQ2_XXS, 256, 66);
        Add(GgmlType.IQ2_XS, 256, 74);
        Add(GgmlType.IQ3_XXS, 256, 98);
        Add(GgmlType.IQ1_S, 256, 50);
        Add(GgmlType.IQ4_NL, 32, 18);
        Add(GgmlType.IQ3_S, 256, 110);
        Add(GgmlType.IQ2_S, 256, 82);
        Add(GgmlType.IQ4_XS, 256, 136);
        Add(GgmlType.I8, 1, 1);
        Add(GgmlType.I16, 1, 2);
        Add(GgmlType.I32, 1, 4);
        Add(GgmlType.I64, 1, 8);
        Add(GgmlType.F64, 1, 8);
        Add(GgmlType.IQ1_M, 256, 56);
        Add(GgmlType.BF16, 1, 2);
        Add(GgmlType.TQ1_0, 256, 54);
        Add(GgmlType.TQ2_0, 256, 66);
        Add(GgmlType.MXFP4, 32, 17);
        return table;
    }

    private static string Canonical(GgmlType t) => t.ToString().ToLowerInvariant();

    /// <summary>Every known type, in id order.</summary>
    public static IEnumerable<GgmlTypeTraits> All => ById.Where(t => t is not null).Select(t => t!.Value);

    /// <summary>Looks a type up by its numeric id; false for ids that no ggml build defines today.</summary>
    public static bool TryGet(int id, out GgmlTypeTraits traits)
    {
        if ((uint)id < (uint)ById.Length && ById[id] is { } t)
        {
            traits = t;
            return true;
        }

        traits = default;
        return false;
    }

    public static GgmlTypeTraits Get(GgmlType type) =>
        TryGet((int)type, out var t) ? t : throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type");

    /// <summary>
    /// The ggml type llama-quant.cpp uses for most tensors of a llama.cpp file type ("Q4_K_M" → q4_K, "IQ3_M" →
    /// iq3_s, "MXFP4_MOE" → mxfp4, "Q8_0" → q8_0), or null for names mainline does not define (ik_llama.cpp's IQ4_K,
    /// IQ2_K_R4 …, or junk). K-quant mixes take the suffixes _S, _M and _L that include/llama.h's llama_ftype names.
    /// </summary>
    public static GgmlType? MainTypeOfFileType(string fileType)
    {
        var s = fileType.Trim().ToUpperInvariant();
        int k = s.IndexOf("_K_", StringComparison.Ordinal);
        string? baseName = s switch
        {
            "IQ3_M" or "IQ3_XS" => "IQ3_S",
            "IQ2_M" => "IQ2_S",
            "MXFP4_MOE" => "MXFP4",
            "Q2_K_S" => "Q2_K",
            _ when s.StartsWith('Q') && k > 0 => s[(k + 3)..] is "S" or "M" or "L" ? s[..k] + "_K" : null,
            _ => s,
        };
        return baseName is not null && TryParse(baseName, out var t) ? t.Type : null;
    }

    /// <summary>
    /// Parses a type name as llama.cpp's options and logs write it ("q8_0", "Q4_K", "f16", "bf16", "iq4_nl").
    /// </summary>
    public static bool TryParse(string name, out GgmlTypeTraits traits)
    {
        foreach (var t in All)
        {
            if (string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                traits = t;
                return true;
            }
        }

        traits = default;
        return false;
    }
}
