namespace VramFit.Models;

/// <summary>What a weight tensor does; decides whether a quantization scheme packs it or keeps it 16-bit.</summary>
public enum TensorRole
{
    TokenEmbedding,
    PositionEmbedding,
    OutputHead,
    OutputBias,
    Norm,
    Bias,

    // attention projections (quantizable matrices)
    AttentionQuery,
    AttentionKey,
    AttentionValue,
    AttentionQkv,
    AttentionOutput,
    MlaQueryA,
    MlaQueryB,
    MlaKvA,
    MlaKvB,
    AttentionSinks,

    // feed-forward (quantizable matrices)
    FfnGate,
    FfnUp,
    FfnDown,
    FfnGateUp,
    ExpertGate,
    ExpertUp,
    ExpertDown,
    ExpertGateUp,
    SharedExpertGate,
    SharedExpertUp,
    SharedExpertDown,

    // small MoE tensors that stay in the dense dtype
    Router,
    RouterBias,
    SharedExpertRouter,

    // recurrent (Mamba / GDN / RWKV)
    RecurrentInput,
    RecurrentOutput,
    RecurrentProjection,
    RecurrentConv,
    RecurrentState,

    // multi-token prediction glue (DeepSeek-V3 / GLM NextN)
    NextNProjection,

    Other,
}

/// <summary>
/// One weight tensor of a model, in ggml's dimension order: <see cref="Columns"/> is the contiguous row
/// length (the input features of a linear layer; ggml ne0), <see cref="Rows"/> the output features (ne1),
/// <see cref="Experts"/> the stacked experts of a MoE tensor (ne2, 1 otherwise).
/// </summary>
/// <param name="Name">Name in GGUF spelling ("blk.3.attn_q.weight", "token_embd.weight").</param>
/// <param name="Layer">Block index, or -1 for tensors outside the blocks.</param>
public readonly record struct WeightTensor(string Name, TensorRole Role, int Layer, long Columns, long Rows = 1, long Experts = 1)
{
    public long Elements => Columns * Rows * Experts;

    /// <summary>
    /// A linear-layer matrix inside a block: what GPTQ/AWQ/bitsandbytes/FP8 schemes pack. Embeddings,
    /// the output head, norms, biases, routers and recurrent state parameters stay in the dense dtype.
    /// </summary>
    public bool IsQuantizable => Role switch
    {
        TensorRole.AttentionQuery or TensorRole.AttentionKey or TensorRole.AttentionValue or TensorRole.AttentionQkv
            or TensorRole.AttentionOutput or TensorRole.MlaQueryA or TensorRole.MlaQueryB or TensorRole.MlaKvA
            or TensorRole.MlaKvB or TensorRole.FfnGate or TensorRole.FfnUp or TensorRole.FfnDown or TensorRole.FfnGateUp
            or TensorRole.ExpertGate or TensorRole.ExpertUp or TensorRole.ExpertDown or TensorRole.ExpertGateUp
            or TensorRole.SharedExpertGate or TensorRole.SharedExpertUp or TensorRole.SharedExpertDown
            or TensorRole.RecurrentInput or TensorRole.RecurrentOutput or TensorRole.RecurrentProjection
            or TensorRole.NextNProjection => Rows > 1 && Columns > 1,
        _ => false,
    };

    /// <summary>A routed-expert tensor (what <c>--n-cpu-moe</c> and expert parallelism move).</summary>
    public bool IsRoutedExpert => Role is TensorRole.ExpertGate or TensorRole.ExpertUp or TensorRole.ExpertDown or TensorRole.ExpertGateUp;
}
