using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// The ggml type llama.cpp's quantizer gives each tensor of a file type (src/llama-quant.cpp
/// <c>llama_tensor_get_type</c>): most matrices get the file type's main type; output.weight is raised to q6_K;
/// attn_v / ffn_down of "_M" mixes are raised to q6_K on the layers <c>use_more_bits</c> picks; 1-D tensors,
/// routers and position embeddings stay f32. Used only when the exact tensor list is unknown.
/// </summary>
internal static class LlamaCppQuantMix
{
    /// <summary>Type of <paramref name="t"/> in a file of type <paramref name="ftype"/> whose main type is <paramref name="main"/>.</summary>
    public static GgmlType TypeOf(in WeightTensor t, string ftype, GgmlType main, int layerCount, bool tied = false)
    {
        // a tied token_embd doubles as the output head and is quantized like it ("!has_output && token_embd")
        var role = tied && t.Role == TensorRole.TokenEmbedding ? TensorRole.OutputHead : t.Role;
        if (t.Rows == 1 && t.Experts == 1)
            return GgmlType.F32;
        if (t.Role is TensorRole.Router or TensorRole.RouterBias or TensorRole.SharedExpertRouter or TensorRole.PositionEmbedding
            or TensorRole.AttentionSinks or TensorRole.Norm or TensorRole.Bias or TensorRole.RecurrentState or TensorRole.RecurrentConv)
            return GgmlType.F32;
        var f = ftype.ToUpperInvariant();
        if (f is "F16" or "BF16" or "F32")
            return main;
        GgmlType chosen = main;
        bool kQuant = f.StartsWith('Q') && f.Contains("_K", StringComparison.Ordinal) || f.StartsWith("IQ", StringComparison.Ordinal);
        int i = t.Layer;
        switch (role)
        {
            case TensorRole.OutputHead when f != "Q8_0" && f != "MXFP4_MOE":
                chosen = GgmlType.Q6_K;                               // "output.weight → Q6_K" for every k/i-quant mix
                break;
            case TensorRole.OutputHead when f == "MXFP4_MOE":
                chosen = GgmlType.Q8_0;
                break;
            case TensorRole.AttentionValue:
                chosen = f switch
                {
                    "Q4_K_M" or "Q5_K_M" when UseMoreBits(i, layerCount) => GgmlType.Q6_K,
                    "Q3_K_M" => i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K,
                    "Q3_K_L" => GgmlType.Q5_K,
                    "Q4_K_S" when i < 4 => GgmlType.Q5_K,
                    "Q2_K" or "Q2_K_S" => GgmlType.Q3_K,
                    _ => main,
                };
                break;
            case TensorRole.FfnDown or TensorRole.ExpertDown or TensorRole.SharedExpertDown:
                chosen = f switch
                {
                    "Q4_K_M" or "Q5_K_M" when UseMoreBits(i, layerCount) => GgmlType.Q6_K,
                    "Q3_K_M" when i < layerCount / 16 => GgmlType.Q5_K,
                    "Q3_K_M" => UseMoreBits(i, layerCount) ? GgmlType.Q4_K : GgmlType.Q3_K,
                    "Q3_K_L" => GgmlType.Q5_K,
                    "Q4_K_S" when i < layerCount / 8 => GgmlType.Q5_K,
                    _ => main,
                };
                break;
            case TensorRole.AttentionOutput:
                chosen = f switch { "Q3_K_M" => GgmlType.Q4_K, "Q3_K_L" => GgmlType.Q5_K, _ => main };
                break;
            case TensorRole.AttentionQkv:
                chosen = f switch { "Q3_K_M" or "Q3_K_L" => GgmlType.Q4_K, "Q4_K_M" => GgmlType.Q5_K, "Q5_K_M" => GgmlType.Q6_K, _ => main };
                break;
            case TensorRole.ExpertGate or TensorRole.ExpertUp or TensorRole.ExpertDown or TensorRole.ExpertGateUp when f == "MXFP4_MOE":
                return GgmlType.MXFP4;
            default:
                // gpt-oss MXFP4_MOE: everything but the experts is q8_0 (llama-quant "MXFP4_MOE" default type)
                chosen = f == "MXFP4_MOE" ? GgmlType.Q8_0 : main;
                break;
        }

        return kQuant ? RowFallback(chosen, t.Columns) : chosen;
    }

    /// <summary>llama-quant.cpp <c>use_more_bits</c>: the first and last eighth, and every third layer between.</summary>
    public static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    /// <summary>
    /// Rows not divisible by the 256-element super-block fall back (llama-quant.cpp "tensor cols not divisible
    /// by 256"): q2_K/q3_K/iq* → iq4_nl, q4_K → q5_0, q5_K → q5_1, q6_K → q8_0.
    /// </summary>
    private static GgmlType RowFallback(GgmlType type, long columns)
    {
        var traits = GgmlTypes.Get(type);
        if (columns % traits.BlockSize == 0)
            return type;
        return type switch
        {
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ when columns % 32 == 0 => GgmlType.IQ4_NL,
            _ => GgmlType.F16,
        };
    }

    /// <summary>Bytes of <paramref name="t"/> stored as <paramref name="type"/>.</summary>
    public static long Bytes(in WeightTensor t, GgmlType type)
    {
        var traits = GgmlTypes.Get(type);
        return (t.Columns + traits.BlockSize - 1) / traits.BlockSize * traits.TypeSize * t.Rows * t.Experts;
    }
}
