namespace VramFit.Models;

/// <summary>Feed-forward kind of a layer.</summary>
public enum MlpKind
{
    /// <summary>One dense feed-forward network.</summary>
    Dense,

    /// <summary>A mixture of experts with a router, optionally plus shared experts.</summary>
    MoE,

    /// <summary>No feed-forward network (some recurrent blocks).</summary>
    None,
}

/// <summary>
/// Feed-forward part of a layer. Gated MLPs (SwiGLU, GeGLU) have three matrices (gate, up, down);
/// plain ones (GELU in GPT-2, Falcon, StarCoder2) have two (up, down).
/// </summary>
public sealed record MlpSpec
{
    public required MlpKind Kind { get; init; }

    /// <summary>Gate + up + down (true) or up + down (false).</summary>
    public bool Gated { get; init; } = true;

    /// <summary>
    /// Gate and up stored as one [hidden → 2 × ffn] tensor: Phi-3's gate_up_proj and GLM-4's, which llama.cpp loads as
    /// one <c>ffn_up</c> of width 2 × n_ff (llama-model.cpp, LLM_ARCH_PHI3 and LLM_ARCH_GLM4 in load_tensors).
    /// </summary>
    public bool FusedGateUp { get; init; }

    /// <summary>Intermediate size of the dense MLP.</summary>
    public int FfnSize { get; init; }

    /// <summary>Biases on the MLP projections (GPT-2, StarCoder2, gpt-oss experts …).</summary>
    public bool Bias { get; init; }

    /// <summary>Routed experts (MoE only).</summary>
    public int ExpertCount { get; init; }

    /// <summary>Experts used per token (top-k).</summary>
    public int ActiveExpertCount { get; init; }

    /// <summary>Intermediate size of each routed expert.</summary>
    public int ExpertFfnSize { get; init; }

    /// <summary>Always-active shared experts (DeepSeek, Qwen2-MoE, Llama-4); each of <see cref="SharedExpertFfnSize"/>.</summary>
    public int SharedExpertCount { get; init; }

    /// <summary>Intermediate size of one shared expert (Qwen2-MoE: the whole shared block's size, count 1).</summary>
    public int SharedExpertFfnSize { get; init; }

    /// <summary>Qwen2-MoE's sigmoid gate on the shared expert: a [1, hidden] weight.</summary>
    public bool SharedExpertGate { get; init; }

    /// <summary>Bias on the router (gpt-oss) .</summary>
    public bool RouterBias { get; init; }

    /// <summary>Per-expert score-correction bias (DeepSeek-V3 e_score_correction_bias, GLM-4.5).</summary>
    public bool RouterScoreCorrectionBias { get; init; }

    public static MlpSpec NoMlp { get; } = new() { Kind = MlpKind.None, Gated = false };

    /// <summary>Number of weight matrices per FFN block: 3 when gated, 2 otherwise.</summary>
    public int MatricesPerFfn => Gated ? 3 : 2;
}
