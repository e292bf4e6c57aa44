using VramFit.Models;

namespace VramFit.Engines.Serving;

/// <summary>How a layer's cache grows: with every token, within a window, or not at all (recurrent state).</summary>
public enum KvLayerKind
{
    FullAttention,
    SlidingWindow,
    Mla,
    RecurrentState,
}

/// <summary>
/// The per-rank cache demand of one layer: bytes per cached token (attention) or per sequence (recurrent).
/// Engines page these into blocks by their own rules.
/// </summary>
public readonly record struct KvLayerSpec(int Layer, KvLayerKind Kind, long BytesPerToken, int SlidingWindow = 0, long StateBytes = 0)
{
    /// <summary>
    /// The cache spec of every layer of a pipeline stage, per TP rank. Standard attention: KV heads are split
    /// over TP (replicated when fewer than TP), K and V each head_dim × dtype. MLA: the latent is not split
    /// (every TP rank stores the whole 576-wide latent). Recurrent: conv + SSM state per sequence, split over TP,
    /// in the engine's state dtype.
    /// </summary>
    public static KvLayerSpec[] ForStage(ModelDescription model, int tensorParallel, KvCacheDtype dtype, int firstLayer, int layerCount, int stateElementBytes)
    {
        var list = new List<KvLayerSpec>(layerCount);
        for (int i = firstLayer; i < firstLayer + layerCount; i++)
        {
            var layer = model.Layers[i];
            var a = layer.Attention;
            if (layer.OwnsRecurrentState)
            {
                var r = a.Recurrent!;
                long elements = (r.ConvStateElements + r.SsmStateElements + tensorParallel - 1) / tensorParallel;
                list.Add(new(i, KvLayerKind.RecurrentState, 0, StateBytes: elements * stateElementBytes));
                continue;
            }

            if (!layer.OwnsKvCache)
                continue;
            if (a.Kind == AttentionKind.Mla)
            {
                list.Add(new(i, KvLayerKind.Mla, dtype.BytesPerMlaToken(a.Mla!.KvLoraRank, a.Mla.QkRopeHeadDim)));
                continue;
            }

            long kvHeads = Math.Max(1, a.KvHeadCount / tensorParallel);
            long perToken = kvHeads * (a.KeyHeadDim + a.ValueHeadDim) * dtype.ElementBytes;
            list.Add(a.Kind == AttentionKind.SlidingWindow
                ? new(i, KvLayerKind.SlidingWindow, perToken, a.SlidingWindow)
                : new(i, KvLayerKind.FullAttention, perToken));
        }

        return [.. list];
    }
}
