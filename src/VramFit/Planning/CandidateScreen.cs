using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Planning;

/// <summary>
/// A lower bound on the fullest GPU's memory for a candidate, computed without allocating: the weights spread
/// evenly over its GPUs plus the KV cache of the full-attention layers (sliding-window and recurrent layers
/// counted as zero). The fullest GPU always holds at least this much, so a candidate above the GPU's capacity
/// can be dropped before the engine model builds its itemized report. Millions per second (bench/).
/// </summary>
public sealed class CandidateScreen
{
    private readonly long weightBytes;
    private readonly long fullAttentionKvElementsPerToken;

    public CandidateScreen(ModelDescription model, WeightFormat format)
    {
        ArgumentNullException.ThrowIfNull(model);
        weightBytes = ModelProfile.Create(model, format).TotalWeightBytes;
        foreach (var layer in model.Layers)
            if (layer.OwnsKvCache && layer.Attention.Kind != AttentionKind.SlidingWindow)
                fullAttentionKvElementsPerToken += ModelSummary.KvElementsPerToken(layer);
    }

    /// <summary>Weight bytes of the whole model in the screened format.</summary>
    public long WeightBytes => weightBytes;

    /// <summary>
    /// The least bytes the fullest of <paramref name="gpus"/> GPUs must hold for <paramref name="sequences"/>
    /// sequences of <paramref name="context"/> tokens with a KV cache of <paramref name="kvBits"/> bits per element
    /// (engines that shrink MLA or pack KV further only lower the KV part, never below the latent bound).
    /// </summary>
    public long LowerBoundBytesPerGpu(long context, int sequences, int kvBits, int gpus)
    {
        long kv = fullAttentionKvElementsPerToken * context * sequences * kvBits / 8;
        return (weightBytes + kv) / gpus;
    }

    /// <summary>True when the candidate cannot fit in <paramref name="usableBytes"/> per GPU whatever the engine adds.</summary>
    public bool CannotFit(long context, int sequences, int kvBits, int gpus, long usableBytes) =>
        LowerBoundBytesPerGpu(context, sequences, kvBits, gpus) > usableBytes;
}
