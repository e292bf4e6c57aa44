using VramFit.Performance;
using VramFit.Reports;

namespace VramFit.Planning;

/// <summary>One configuration that fits: its memory, its predicted speed, its quality risk and how to launch it.</summary>
public sealed record PlanOption
{
    public required PlanCandidate Candidate { get; init; }

    public required MemoryReport Memory { get; init; }

    /// <summary>The fullest GPU's bytes and its free bytes after the estimate.</summary>
    public required long PeakGpuBytes { get; init; }

    public required long MinHeadroomBytes { get; init; }

    /// <summary>Predicted speed of one replica at the requested concurrency; null when the GPU's figures are unknown.</summary>
    public PerformanceEstimate? Performance { get; init; }

    /// <summary>Replicas that fit on all the GPUs (data parallel); throughput counts all of them.</summary>
    public required int Replicas { get; init; }

    /// <summary>Output tokens per second over all replicas (NaN when unknown).</summary>
    public double TokensPerSecond => Performance is null ? double.NaN : Performance.DecodeTokensPerSecond * Replicas;

    public double TtftSeconds => Performance?.TtftSeconds ?? double.NaN;

    public double TpotSeconds => Performance?.TpotSeconds ?? double.NaN;

    public required QualityNote WeightQuality { get; init; }

    public required QualityNote KvQuality { get; init; }

    /// <summary>The worse of the weight and KV risks.</summary>
    public QualityRisk Risk => (QualityRisk)Math.Max((int)WeightQuality.Risk, (int)KvQuality.Risk);

    /// <summary>Not beaten by another option on throughput, latency, GPUs and quality at once.</summary>
    public bool Pareto { get; init; }

    /// <summary>Why this option (offload, margin …) in words.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public string? LaunchCommand => Memory.LaunchCommand;
}

/// <summary>The planner's answer: ranked options, and why the others were dropped.</summary>
public sealed record PlanResult
{
    public required PlanRequest Request { get; init; }

    public required IReadOnlyList<PlanOption> Options { get; init; }

    public required int CandidatesEvaluated { get; init; }

    /// <summary>Reasons candidates did not qualify, with how many each.</summary>
    public required IReadOnlyDictionary<string, int> Rejections { get; init; }

    public IReadOnlyList<string> Notes { get; init; } = [];
}
