using System.Collections.Immutable;

namespace VramFit.Simulation;

/// <summary>Mean and percentiles of a latency, seconds (nearest-rank percentiles).</summary>
public readonly record struct LatencyStats(double Mean, double P50, double P90, double P99, double Max)
{
    /// <summary>Statistics of <paramref name="sorted"/> (ascending); all zero when empty.</summary>
    public static LatencyStats FromSorted(ReadOnlySpan<double> sorted)
    {
        if (sorted.IsEmpty)
            return default;
        double sum = 0;
        foreach (var v in sorted)
            sum += v;
        return new(sum / sorted.Length, Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least p % of the values at or below it.</summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.IsEmpty)
            return 0;
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>The value at percentile <paramref name="p"/> of this summary (50, 90 or 99; otherwise the mean).</summary>
    public double At(double p) => p switch { 50 => P50, 90 => P90, 99 => P99, 100 => Max, _ => Mean };
}

/// <summary>What a serving simulation measured.</summary>
public sealed record SimulationResult
{
    public required BatchingPolicy Policy { get; init; }

    /// <summary>Requests in the workload.</summary>
    public required int Requests { get; init; }

    public required int Completed { get; init; }

    /// <summary>Requests that can never run: longer than the KV pool, or than the token budget without chunked prefill.</summary>
    public required int Rejected { get; init; }

    /// <summary>From time 0 to the last completion, seconds.</summary>
    public required double DurationSeconds { get; init; }

    public required double RequestsPerSecond { get; init; }

    /// <summary>Generated tokens per second.</summary>
    public required double OutputTokensPerSecond { get; init; }

    /// <summary>Prompt plus generated tokens per second.</summary>
    public required double TotalTokensPerSecond { get; init; }

    /// <summary>Arrival to first token.</summary>
    public required LatencyStats Ttft { get; init; }

    /// <summary>(completion − first token) / (output − 1), over requests with more than one output token.</summary>
    public required LatencyStats Tpot { get; init; }

    public required LatencyStats EndToEnd { get; init; }

    /// <summary>Arrival to first scheduled.</summary>
    public required LatencyStats Queueing { get; init; }

    public required long Preemptions { get; init; }

    /// <summary>Engine iterations (steps) simulated.</summary>
    public required long Iterations { get; init; }

    /// <summary>Prompt tokens served from the prefix cache instead of being computed.</summary>
    public required long PrefixCacheHitTokens { get; init; }

    /// <summary>Highest share of KV blocks in use at any step.</summary>
    public required double PeakKvUtilization { get; init; }

    public required double MeanKvUtilization { get; init; }

    public required double MeanBatchSize { get; init; }

    public required ImmutableArray<TimePoint> KvUtilization { get; init; }

    public required ImmutableArray<TimePoint> BatchSize { get; init; }

    /// <summary>End-to-end latency at percentiles 0, 1, …, 100 (for a CDF plot).</summary>
    public required ImmutableArray<double> EndToEndCdf { get; init; }

    /// <summary>TTFT at percentiles 0, 1, …, 100.</summary>
    public required ImmutableArray<double> TtftCdf { get; init; }
}
