namespace VramFit.Engines.Serving;

/// <summary>
/// The engine-specific choices of how weights are laid out per GPU rank; the arithmetic itself is
/// shared (<see cref="RankWeights"/>).
/// </summary>
public sealed record ShardingRules
{
    /// <summary>
    /// Token embedding and LM head are split by vocabulary rows over the TP ranks (vLLM
    /// <c>VocabParallelEmbedding</c>/<c>ParallelLMHead</c>, SGLang, TGI); false = every rank holds a copy.
    /// </summary>
    public bool VocabParallel { get; init; } = true;

    /// <summary>Rows the vocabulary is padded to before the split (vLLM <c>DEFAULT_VOCAB_PADDING_SIZE = 64</c>,
    /// vllm/model_executor/layers/vocab_parallel_embedding.py); 1 = no padding.</summary>
    public int VocabPadding { get; init; } = 64;

    /// <summary>Multi-token-prediction (NextN/MTP) blocks are loaded; vLLM loads them only for speculative decoding.</summary>
    public bool LoadNextN { get; init; }

    /// <summary>Per-rank expert intermediate size is rounded up to this multiple by the MoE kernel's weight
    /// layout (0 = no padding); see the engine's quantization method for the source.</summary>
    public int ExpertIntermediateAlign { get; init; }

    /// <summary>Expert hidden (input/output) dimension rounded up to this multiple (0 = none).</summary>
    public int ExpertHiddenAlign { get; init; }

    /// <summary>vLLM's layout for unquantized and most quantized checkpoints.</summary>
    public static ShardingRules Vllm { get; } = new();
}
