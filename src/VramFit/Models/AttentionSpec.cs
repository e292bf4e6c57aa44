namespace VramFit.Models;

/// <summary>How a layer mixes tokens; decides whether and how it owns a KV cache.</summary>
public enum AttentionKind
{
    /// <summary>Causal attention over the whole context; caches K and V for every token.</summary>
    Full,

    /// <summary>Attention over the last <see cref="AttentionSpec.SlidingWindow"/> tokens only.</summary>
    SlidingWindow,

    /// <summary>Multi-head latent attention (DeepSeek-V2/V3): caches a compressed latent plus a RoPE key.</summary>
    Mla,

    /// <summary>A recurrent / linear-attention / state-space layer: constant-size state per sequence.</summary>
    Recurrent,

    /// <summary>No token mixing in this layer (e.g. an MLP-only block).</summary>
    None,
}

/// <summary>Normalisation applied to queries and keys before RoPE (Qwen3, OLMo-2, Gemma-3 …).</summary>
public enum QkNormKind
{
    None,

    /// <summary>One weight vector of head_dim shared by all heads (Qwen3, Gemma-3).</summary>
    PerHead,

    /// <summary>One weight vector over all query (or key) channels (OLMo-2, Cohere2-style full-width).</summary>
    FullWidth,
}

/// <summary>
/// Multi-head latent attention shape (DeepSeek-V2/V3, Kimi-K2, GLM-MoE-DSA …). Names follow the HF config.
/// </summary>
public sealed record MlaSpec
{
    /// <summary>Rank of the query down-projection; 0 means queries are projected directly (DeepSeek-V2-Lite).</summary>
    public required int QLoraRank { get; init; }

    /// <summary>Rank of the compressed KV latent (512 for DeepSeek-V3).</summary>
    public required int KvLoraRank { get; init; }

    /// <summary>Per-head query/key dimension without RoPE (128).</summary>
    public required int QkNopHeadDim { get; init; }

    /// <summary>Per-head RoPE dimension, shared by all heads in the cache (64).</summary>
    public required int QkRopeHeadDim { get; init; }

    /// <summary>Per-head value dimension (128).</summary>
    public required int VHeadDim { get; init; }

    /// <summary>Elements per token that a latent cache stores: kv_lora_rank + qk_rope_head_dim (576 for V3).</summary>
    public int LatentElementsPerToken => KvLoraRank + QkRopeHeadDim;
}

/// <summary>Family of a recurrent / linear-attention layer; decides its parameters and state formula.</summary>
public enum RecurrentKind
{
    /// <summary>Mamba (selective SSM, Jamba, Falcon-Mamba).</summary>
    Mamba,

    /// <summary>Mamba-2 (SSD, multi-head; Falcon-H1, Nemotron-H, Granite-4).</summary>
    Mamba2,

    /// <summary>Gated DeltaNet (Qwen3-Next linear attention).</summary>
    GatedDeltaNet,

    /// <summary>RWKV-6/7 time mixing.</summary>
    Rwkv,
}

/// <summary>
/// Shape of a recurrent layer. The per-sequence state is constant in context length; see
/// <see cref="ConvStateElements"/> and <see cref="SsmStateElements"/> for the formulas
/// (shared/docs/ENGINE-MEMORY-FACTS.md, "Recurrent / hybrid state").
/// </summary>
public sealed record RecurrentSpec
{
    public required RecurrentKind Kind { get; init; }

    /// <summary>Inner width (Mamba d_inner = expand × hidden; GDN: value heads × value head dim).</summary>
    public required int InnerSize { get; init; }

    /// <summary>SSM state size per channel (Mamba d_state); for GDN the key head dim.</summary>
    public required int StateSize { get; init; }

    /// <summary>Causal convolution width (d_conv, 4 typically).</summary>
    public required int ConvKernel { get; init; }

    /// <summary>Rank of the Δ projection (Mamba-1 dt_rank).</summary>
    public int DtRank { get; init; }

    /// <summary>Groups sharing B/C (Mamba-2 n_groups); 1 for Mamba-1.</summary>
    public int GroupCount { get; init; } = 1;

    /// <summary>Heads (Mamba-2 n_heads; GDN value heads).</summary>
    public int HeadCount { get; init; }

    /// <summary>Key heads of a gated-delta-net layer (may be fewer than value heads).</summary>
    public int KeyHeadCount { get; init; }

    /// <summary>Key head dim of a gated-delta-net layer.</summary>
    public int KeyHeadDim { get; init; }

    /// <summary>Value head dim of a gated-delta-net layer.</summary>
    public int ValueHeadDim { get; init; }

    /// <summary>Whether the convolution and projections carry biases (Mamba-1 conv_bias / proj bias).</summary>
    public bool ConvBias { get; init; } = true;

    public bool ProjectionBias { get; init; }

    /// <summary>Jamba's extra RMS norms on Δ, B and C inside the Mamba mixer.</summary>
    public bool InnerNorms { get; init; }

    /// <summary>
    /// Elements of the rolling convolution state per sequence (llama.cpp's "r" tensor).
    /// Mamba: (d_conv−1)·(d_inner + 2·n_group·d_state) for Mamba-2, (d_conv−1)·d_inner for Mamba-1;
    /// GDN: (d_conv−1)·(2·k_heads·k_dim + v_heads·v_dim).
    /// </summary>
    public long ConvStateElements => Kind switch
    {
        RecurrentKind.Mamba => (long)(ConvKernel - 1) * InnerSize,
        RecurrentKind.Mamba2 => (long)(ConvKernel - 1) * (InnerSize + 2L * GroupCount * StateSize),
        RecurrentKind.GatedDeltaNet => (long)(ConvKernel - 1) * (2L * KeyHeadCount * KeyHeadDim + (long)HeadCount * ValueHeadDim),
        RecurrentKind.Rwkv => 2L * InnerSize,
        _ => 0,
    };

    /// <summary>
    /// Elements of the recurrent state per sequence (llama.cpp's "s" tensor). Mamba: d_state·d_inner;
    /// GDN: v_heads·k_dim·v_dim; RWKV: head_size·n_embd.
    /// </summary>
    public long SsmStateElements => Kind switch
    {
        RecurrentKind.Mamba or RecurrentKind.Mamba2 => (long)StateSize * InnerSize,
        RecurrentKind.GatedDeltaNet => (long)HeadCount * KeyHeadDim * ValueHeadDim,
        RecurrentKind.Rwkv => (long)StateSize * InnerSize,
        _ => 0,
    };
}

/// <summary>
/// The token-mixing part of one layer. For <see cref="AttentionKind.Full"/>/<see cref="AttentionKind.SlidingWindow"/>
/// the head counts and dims describe the projections and the cache; MLA and recurrent layers carry their own spec.
/// </summary>
public sealed record AttentionSpec
{
    public required AttentionKind Kind { get; init; }

    /// <summary>Query heads (0 for recurrent / none).</summary>
    public int HeadCount { get; init; }

    /// <summary>Key/value heads (GQA/MQA); 0 when the layer owns no KV cache.</summary>
    public int KvHeadCount { get; init; }

    /// <summary>Key (and query) head dimension; may differ from hidden/heads (Gemma, Qwen3).</summary>
    public int KeyHeadDim { get; init; }

    /// <summary>Value head dimension (equal to <see cref="KeyHeadDim"/> except in MLA-like layouts).</summary>
    public int ValueHeadDim { get; init; }

    /// <summary>Window in tokens for <see cref="AttentionKind.SlidingWindow"/>; 0 otherwise.</summary>
    public int SlidingWindow { get; init; }

    public MlaSpec? Mla { get; init; }

    public RecurrentSpec? Recurrent { get; init; }

    /// <summary>Biases on the Q, K and V projections (Qwen2, GPT-2, Falcon-7B's fused QKV has none …).</summary>
    public bool QkvBias { get; init; }

    /// <summary>Bias on the output projection.</summary>
    public bool OutputBias { get; init; }

    public QkNormKind QkNorm { get; init; }

    /// <summary>Whether QK norms carry a bias (LayerNorm-style, e.g. Cohere).</summary>
    public bool QkNormBias { get; init; }

    /// <summary>Learned per-head attention sinks (gpt-oss): one scalar per query head.</summary>
    public bool Sinks { get; init; }

    /// <summary>Fused QKV projection stored as one tensor (Phi-3, Falcon, GPT-2, GPT-NeoX).</summary>
    public bool FusedQkv { get; init; }

    /// <summary>
    /// The query projection also emits a per-channel output gate (Qwen3-Next <c>attn_output_gate</c>):
    /// q_proj has 2 × heads × head_dim rows; the cache is unchanged.
    /// </summary>
    public bool GatedQuery { get; init; }

    /// <summary>
    /// Dimensions of each query/key head that RoPE rotates (head_dim × partial_rotary_factor; MLA: qk_rope_head_dim);
    /// 0 when the layer has no rotary embedding or the source does not say.
    /// </summary>
    public int RotaryDims { get; init; }

    /// <summary>RoPE base frequency (rope_theta, or rope_local_base_freq on Gemma-3's local layers); 0 when unknown.</summary>
    public double RotaryBase { get; init; }

    /// <summary>
    /// Positions a serving engine precomputes the cos/sin table for when rope scaling stretches it beyond
    /// max_position_embeddings (linear/dynamic: × factor; YaRN: original_max_position_embeddings × factor); 0 = the
    /// model's max_position_embeddings.
    /// </summary>
    public int RotaryPositions { get; init; }

    /// <summary>True when the layer keeps per-token K/V (full, sliding window or MLA).</summary>
    public bool HasKvCache => Kind is AttentionKind.Full or AttentionKind.SlidingWindow or AttentionKind.Mla;

    /// <summary>Key elements per token cached by a standard (non-MLA) layer: kv_heads × key_head_dim.</summary>
    public long KeyElementsPerToken => Kind is AttentionKind.Full or AttentionKind.SlidingWindow ? (long)KvHeadCount * KeyHeadDim : 0;

    /// <summary>Value elements per token cached by a standard (non-MLA) layer: kv_heads × value_head_dim.</summary>
    public long ValueElementsPerToken => Kind is AttentionKind.Full or AttentionKind.SlidingWindow ? (long)KvHeadCount * ValueHeadDim : 0;

    public static AttentionSpec NoAttention { get; } = new() { Kind = AttentionKind.None };
}
