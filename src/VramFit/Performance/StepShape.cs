namespace VramFit.Performance;

/// <summary>
/// What one engine iteration computes: prompt tokens being prefilled (possibly chunks of several prompts) and
/// sequences decoding one token each over their cached context. The simulator builds one per iteration;
/// <see cref="IStepTimeModel"/> prices it.
/// </summary>
/// <param name="PrefillSequences">Prompts (or prompt chunks) in the step.</param>
/// <param name="PrefillTokens">New prompt tokens computed in the step.</param>
/// <param name="PrefillAttentionPairs">Query×key pairs of causal attention for those tokens
/// (<see cref="CausalPairs"/> summed over chunks).</param>
/// <param name="DecodeSequences">Sequences generating one token each.</param>
/// <param name="DecodeContextTokens">Sum of the cached context lengths those sequences attend to.</param>
public readonly record struct StepShape(
    int PrefillSequences,
    long PrefillTokens,
    double PrefillAttentionPairs,
    int DecodeSequences,
    long DecodeContextTokens)
{
    /// <summary>Tokens pushed through the linear layers.</summary>
    public long Tokens => PrefillTokens + DecodeSequences;

    /// <summary>Positions whose logits are computed and sampled (engines compute logits only for the last
    /// token of each prompt and each decoding sequence, e.g. vLLM's <c>logits_indices</c>).</summary>
    public int SampledTokens => PrefillSequences + DecodeSequences;

    public bool IsEmpty => PrefillTokens == 0 && DecodeSequences == 0;

    /// <summary>One prompt of <paramref name="tokens"/> prefilled from scratch.</summary>
    public static StepShape Prefill(long tokens) => new(1, tokens, CausalPairs(0, tokens), 0, 0);

    /// <summary><paramref name="sequences"/> sequences each decoding over <paramref name="context"/> cached tokens.</summary>
    public static StepShape Decode(int sequences, long context) => new(0, 0, 0, sequences, sequences * context);

    /// <summary>Causal attention pairs of <paramref name="newTokens"/> queries appended after <paramref name="cached"/>
    /// tokens: query j (1-based) sees cached + j keys, so the sum is n·c + n(n+1)/2.</summary>
    public static double CausalPairs(long cached, long newTokens) =>
        (double)newTokens * cached + newTokens * (newTokens + 1.0) / 2.0;

    /// <summary>Adds two shapes (a mixed prefill + decode batch).</summary>
    public static StepShape operator +(StepShape a, StepShape b) => new(
        a.PrefillSequences + b.PrefillSequences, a.PrefillTokens + b.PrefillTokens,
        a.PrefillAttentionPairs + b.PrefillAttentionPairs, a.DecodeSequences + b.DecodeSequences,
        a.DecodeContextTokens + b.DecodeContextTokens);
}

/// <summary>Prices one engine iteration. The simulator depends only on this, so tests can use a hand-solvable model.</summary>
public interface IStepTimeModel
{
    /// <summary>Wall-clock seconds of one iteration of <paramref name="shape"/>. Must not allocate.</summary>
    double StepSeconds(in StepShape shape);
}

/// <summary>The parts of one step's time; the total is what the simulator advances the clock by.</summary>
public readonly record struct StepTime(
    double Flops,
    double GpuBytes,
    double ComputeSeconds,
    double MemorySeconds,
    double CommunicationSeconds,
    double OffloadSeconds,
    double OverheadSeconds)
{
    /// <summary>Roofline: compute and memory traffic overlap, so the slower of the two bounds the kernels;
    /// communication, offload transfers and CPU overhead are serial on top (no overlap assumed).</summary>
    public double TotalSeconds => Math.Max(ComputeSeconds, MemorySeconds) + CommunicationSeconds + OffloadSeconds + OverheadSeconds;

    public bool IsComputeBound => ComputeSeconds >= MemorySeconds;
}
