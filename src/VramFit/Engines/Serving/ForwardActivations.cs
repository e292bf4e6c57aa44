using VramFit.Models;

namespace VramFit.Engines.Serving;

/// <summary>
/// The largest set of intermediate tensors alive at once while one GPU rank runs a forward pass over
/// <c>tokens</c> tokens — what an engine's profile run measures as its activation peak. Derived layer by
/// layer from the projections' shapes (per TP rank), not from a per-family constant.
/// </summary>
/// <remarks>
/// Live set per block, in the model dtype: the residual stream (hidden + residual, 2·h per token) plus
/// — attention: normed input h, fused QKV output, attention output, o_proj output h;
/// — dense MLP: normed input h, gate_up 2·I/TP, activation I/TP, down output h;
/// — MoE (vLLM/SGLang fused_moe): router logits E, top-k ids and weights (int32 + fp32), the three fused
///   intermediate caches per routed slot (2·I', I', h with I' = I/TP, or I under EP), output h;
/// — MLA: q_a, q (heads/TP × qk dim), the compressed kv_a, kv_b output heads/TP × (nope + v), attention output;
/// — recurrent: in_proj output/TP, inner state/TP, out_proj h.
/// Attention kernels (FlashAttention, FlashInfer) allocate no T×T scores, and engines' profile runs skip the
/// attention computation (vLLM V1 passes no attention metadata), so no score matrix appears.
/// </remarks>
public static class ForwardActivations
{
    /// <summary>Peak bytes of one forward pass of <paramref name="tokens"/> tokens over layers
    /// [<paramref name="firstLayer"/>, +<paramref name="layerCount"/>), per rank of <paramref name="layout"/>.</summary>
    /// <param name="moeChunkTokens">Tokens per fused-MoE chunk (vLLM <c>VLLM_FUSED_MOE_CHUNK_SIZE</c>); 0 = unchunked.</param>
    public static long PeakBytes(ModelDescription model, long tokens, ParallelLayout layout, int elementBytes, int firstLayer, int layerCount, long moeChunkTokens = 0)
    {
        long h = model.HiddenSize;
        long worst = 0;
        for (int i = firstLayer; i < firstLayer + layerCount; i++)
        {
            var layer = model.Layers[i];
            long attention = MixerElements(layer.Attention, h, layout.Tensor, tokens);
            long mlp = MlpElements(layer.Mlp, h, layout, tokens, moeChunkTokens, elementBytes, out long mlpExtraBytes);
            long live = Math.Max(attention * elementBytes, mlp * elementBytes + mlpExtraBytes);
            worst = Math.Max(worst, live);
        }

        // residual stream: the block's input hidden states and the residual carried around it
        return worst + 2 * tokens * h * elementBytes;
    }

    private static long MixerElements(AttentionSpec a, long h, int tp, long tokens)
    {
        switch (a.Kind)
        {
            case AttentionKind.Full or AttentionKind.SlidingWindow:
            {
                long kvHeads = Math.Max(1, a.KvHeadCount / tp);
                long q = (long)a.HeadCount / tp * a.KeyHeadDim;
                long qkv = q + kvHeads * (a.KeyHeadDim + a.ValueHeadDim);
                long output = (long)a.HeadCount / tp * a.ValueHeadDim;
                return tokens * (h + qkv + output + h);
            }

            case AttentionKind.Mla:
            {
                var m = a.Mla!;
                long heads = Math.Max(1, a.HeadCount / tp);
                long perToken = h + m.QLoraRank + heads * (m.QkNopHeadDim + m.QkRopeHeadDim)
                    + m.KvLoraRank + m.QkRopeHeadDim + heads * (m.QkNopHeadDim + m.VHeadDim) + heads * m.VHeadDim + h;
                return tokens * perToken;
            }

            case AttentionKind.Recurrent:
            {
                var r = a.Recurrent!;
                long inner = (r.InnerSize + tp - 1) / tp;
                return tokens * (h + 2 * inner + 2L * r.GroupCount * r.StateSize + inner + h);
            }

            default:
                return 0;
        }
    }

    private static long MlpElements(MlpSpec f, long h, ParallelLayout layout, long tokens, long moeChunkTokens, int elementBytes, out long extraBytes)
    {
        extraBytes = 0;
        int tp = layout.Tensor;
        switch (f.Kind)
        {
            case MlpKind.Dense:
            {
                long inter = (f.FfnSize + tp - 1) / tp;
                long up = f.Gated ? 2 * inter : inter;
                return tokens * (h + up + inter + h);
            }

            case MlpKind.MoE:
            {
                long chunk = moeChunkTokens > 0 ? Math.Min(tokens, moeChunkTokens) : tokens;
                long inter = layout.ExpertParallel ? f.ExpertFfnSize : (f.ExpertFfnSize + tp - 1) / tp;
                long slots = chunk * f.ActiveExpertCount;
                long up = f.Gated ? 2 * inter : inter;
                // top-k ids (int32) and weights (fp32) per routed slot
                extraBytes = tokens * f.ActiveExpertCount * 8;
                long shared = f.SharedExpertCount > 0 ? (long)f.SharedExpertCount * f.SharedExpertFfnSize / tp : 0;
                return tokens * (h + f.ExpertCount + h) + slots * (up + inter + h) + tokens * shared;
            }

            default:
                return 0;
        }
    }
}
