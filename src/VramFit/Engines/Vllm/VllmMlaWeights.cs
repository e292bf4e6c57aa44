using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.Vllm;

/// <summary>
/// Tensors vLLM's MLA attention derives from the checkpoint in <c>process_weights_after_loading</c>, which runs inside
/// "Model loading took" and so adds to the weights figure.
/// </summary>
public static class VllmMlaWeights
{
    /// <summary>
    /// Extra bytes on one rank for its MLA layers among [<paramref name="firstLayer"/>, +<paramref name="layerCount"/>).
    /// <list type="bullet">
    /// <item>V0 0.7.1 – 0.7.x (PR #12528 "MLA decode optimizations"): the decode path materializes the absorbed
    /// matrices W_Q_UK [q_lora_rank or hidden, heads × kv_lora_rank] and W_UV_O [heads × kv_lora_rank, hidden] for
    /// this rank's heads, beside the raw projections the prefill path keeps; FP8 checkpoints requantize them to FP8
    /// (attention/backends/mla/utils.py).</item>
    /// <item>From 0.8.0 (PR #14770 "MLA get rid of materialization"): W_UK_T and W_UV are views of kv_b_proj's weight,
    /// except that a quantized kv_b_proj is first decompressed to the model dtype (no FP8 bmm): a 16-bit copy of
    /// [kv_lora_rank, heads × (qk_nope_head_dim + v_head_dim)] per layer.</item>
    /// </list>
    /// </summary>
    public static long Bytes(ModelDescription model, VllmSettings s, int firstLayer, int layerCount, int dtypeBytes)
    {
        if (!model.HasLayers(AttentionKind.Mla) || !s.Version.AtLeast(7, 1))
            return 0;
        int tp = s.Parallel.Tensor;
        bool quantized = s.Weights.Kind != WeightFormatKind.Dense && !s.Weights.ExpertsOnly;
        bool materialized = !s.Version.V1 && !s.Version.AtLeast(8, 0);
        if (!materialized && !quantized)
            return 0;
        long total = 0;
        for (int i = firstLayer; i < firstLayer + layerCount && i < model.Layers.Length; i++)
        {
            var a = model.Layers[i].Attention;
            if (a.Kind != AttentionKind.Mla || a.Mla is not { } mla)
                continue;
            long heads = (a.HeadCount + tp - 1) / tp;
            if (materialized)
            {
                long queryIn = mla.QLoraRank > 0 ? mla.QLoraRank : model.HiddenSize;
                long elements = queryIn * heads * mla.KvLoraRank + heads * mla.KvLoraRank * model.HiddenSize;
                total += elements * (s.Weights.Kind == WeightFormatKind.Fp8 ? 1 : dtypeBytes);
            }
            else
            {
                total += (long)mla.KvLoraRank * heads * (mla.QkNopHeadDim + mla.VHeadDim) * dtypeBytes;
            }
        }

        return total;
    }
}
