namespace VramFit.Models;

/// <summary>Kind of normalisation; LayerNorm may carry a bias, RMSNorm never does.</summary>
public enum NormKind
{
    RmsNorm,
    LayerNorm,
}

/// <summary>
/// One transformer (or hybrid) block: its token mixer, its feed-forward network and its norms.
/// Per-layer, because interleaved (Gemma-3, gpt-oss), hybrid (Jamba, Qwen3-Next) and
/// leading-dense MoE (DeepSeek-V3) models differ from layer to layer.
/// </summary>
public sealed record LayerSpec
{
    public required AttentionSpec Attention { get; init; }

    public required MlpSpec Mlp { get; init; }

    /// <summary>
    /// Weight vectors of hidden size owned by the block's norms: 2 for pre-norm blocks (attention, FFN),
    /// 4 for Gemma-2/3 sandwich norms, 1 for a parallel block (Falcon-7B, Cohere).
    /// </summary>
    public int NormCount { get; init; } = 2;

    /// <summary>LayerNorm norms carry a bias vector each (GPT-2, Falcon, StarCoder2).</summary>
    public bool NormBias { get; init; }

    /// <summary>
    /// A multi-token-prediction / NextN block (DeepSeek-V3, GLM-4.5): counted in the checkpoint and
    /// in llama.cpp's block_count, but never runs during normal decoding and owns no KV cache in llama.cpp.
    /// </summary>
    public bool IsNextN { get; init; }

    /// <summary>
    /// Layer reuses the KV cache of an earlier layer (Gemma-3n shared_kv_layers); it owns no cache.
    /// </summary>
    public bool SharesKvCache { get; init; }

    /// <summary>Whether this layer allocates per-token K/V cells.</summary>
    public bool OwnsKvCache => Attention.HasKvCache && !SharesKvCache && !IsNextN;

    /// <summary>Whether this layer allocates per-sequence recurrent state.</summary>
    public bool OwnsRecurrentState => Attention.Kind == AttentionKind.Recurrent && !IsNextN;
}
