using VramFit.Numerics;

namespace VramFit.Sources.Gguf;

/// <summary>
/// Names of <c>general.file_type</c> values: llama.cpp <c>enum llama_ftype</c> (include/llama.h) and the
/// names <c>llama_model_ftype_name</c> (src/llama-model-loader.cpp) prints. Values 4–6 and 33–35 are retired.
/// </summary>
public static class GgufFileTypes
{
    // llama.h: LLAMA_FTYPE_GUESSED = 1024 marks a type inferred by the loader rather than stored.
    private const long GuessedFlag = 1024;

    private static readonly Dictionary<long, string> Names = new()
    {
        [0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1",
        [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M",
        [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K", [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S",
        [22] = "IQ3_XS", [23] = "IQ3_XXS", [24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M",
        [28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16", [36] = "TQ1_0",
        [37] = "TQ2_0", [38] = "MXFP4_MOE",
    };

    /// <summary>The name of a file type id, or null when unknown.</summary>
    public static string? Name(long fileType) =>
        Names.TryGetValue(fileType & ~GuessedFlag, out var n) ? n : null;

    /// <summary>The file type name of <paramref name="metadata"/>: <c>general.file_type_name</c> if given
    /// (JSON cases), otherwise the name of <c>general.file_type</c>.</summary>
    public static string? NameOf(GgufMetadata metadata)
    {
        if (metadata.Get("general.file_type_name") is string given)
            return given;
        return metadata.Get("general.file_type") is long id ? Name(id) : null;
    }

    /// <summary>The ggml type most tensors of a file type get (<see cref="GgmlTypes.MainTypeOfFileType"/>).</summary>
    public static GgmlType? MainType(string ftype) => GgmlTypes.MainTypeOfFileType(ftype);
}
