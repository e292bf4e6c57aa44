using System.Collections.Immutable;
using VramFit.Reports;

namespace VramFit.Performance;

/// <summary>One explained term of a latency estimate: seconds, the formula in words and its inputs.</summary>
public sealed record PerformanceItem
{
    public required string Name { get; init; }

    public required double Seconds { get; init; }

    public string Formula { get; init; } = "";

    public ImmutableArray<FormulaInput> Inputs { get; init; } = [];

    public ImmutableArray<PerformanceItem> Children { get; init; } = [];
}

/// <summary>The explained price of one step: the total and the terms it is made of.</summary>
public sealed record StepBreakdown
{
    public required string Name { get; init; }

    public required StepShape Shape { get; init; }

    public required StepTime Time { get; init; }

    /// <summary>"compute" or "memory": which roof bounds the kernels.</summary>
    public string Bound => Time.IsComputeBound ? "compute" : "memory";

    public required ImmutableArray<PerformanceItem> Items { get; init; }
}

/// <summary>TTFT, TPOT and throughput of one configuration, with the explained prefill and decode steps.</summary>
public sealed record PerformanceEstimate
{
    public required string Model { get; init; }

    public required string Gpu { get; init; }

    public required string WeightFormat { get; init; }

    public required string KvCacheType { get; init; }

    public required ComputeRate Compute { get; init; }

    public required int TensorParallel { get; init; }

    public required int PipelineParallel { get; init; }

    public required int Batch { get; init; }

    public required int PromptTokens { get; init; }

    public required int OutputTokens { get; init; }

    /// <summary>Time to first token of one unqueued request: the prefill of its prompt.</summary>
    public required double TtftSeconds { get; init; }

    /// <summary>Time per output token with <see cref="Batch"/> sequences decoding at the mean context.</summary>
    public required double TpotSeconds { get; init; }

    /// <summary>TTFT + (output − 1) × TPOT: the first token comes out of the prefill step.</summary>
    public double EndToEndSeconds => TtftSeconds + Math.Max(0, OutputTokens - 1) * TpotSeconds;

    /// <summary>Generated tokens per second of the replica at <see cref="Batch"/>.</summary>
    public required double DecodeTokensPerSecond { get; init; }

    /// <summary>Prompt tokens per second while prefilling one prompt.</summary>
    public required double PrefillTokensPerSecond { get; init; }

    public required StepBreakdown Prefill { get; init; }

    public required StepBreakdown Decode { get; init; }
}
