using System.Collections.Immutable;
using VramFit.Errors;

namespace VramFit.Simulation;

/// <summary>A latency target: every set bound must hold at <see cref="Percentile"/> (50, 90 or 99).</summary>
public sealed record LatencySlo
{
    public double? TtftSeconds { get; init; }

    public double? TpotSeconds { get; init; }

    public double? EndToEndSeconds { get; init; }

    public double Percentile { get; init; } = 90;

    public void Validate()
    {
        if (TtftSeconds is null && TpotSeconds is null && EndToEndSeconds is null)
            throw new InvalidSettingException("slo", "set at least one of TTFT, TPOT or end-to-end");
        if (Percentile is not (50 or 90 or 99))
            throw new InvalidSettingException("slo-percentile", $"must be 50, 90 or 99, got {Percentile}");
        if (TtftSeconds is <= 0 || TpotSeconds is <= 0 || EndToEndSeconds is <= 0)
            throw new InvalidSettingException("slo", "bounds must be positive");
    }

    /// <summary>True when <paramref name="r"/> completed every request and meets each bound.</summary>
    public bool IsMetBy(SimulationResult r) =>
        r.Rejected == 0
        && (TtftSeconds is not { } ttft || r.Ttft.At(Percentile) <= ttft)
        && (TpotSeconds is not { } tpot || r.Tpot.At(Percentile) <= tpot)
        && (EndToEndSeconds is not { } e2e || r.EndToEnd.At(Percentile) <= e2e);
}

/// <summary>One simulated rate of a sweep.</summary>
public sealed record SweepPoint(double Rate, bool MeetsSlo, SimulationResult Result);

/// <summary>The simulated rates, ascending, and the highest rate found that meets the target.</summary>
public sealed record SweepResult(ImmutableArray<SweepPoint> Points, double MaxRate);

/// <summary>
/// Finds the highest open-loop arrival rate whose simulated latencies meet a <see cref="LatencySlo"/>:
/// doubles (or halves) the rate from a start until the target flips, then bisects. Latency grows with rate
/// once the replica saturates, so the answer is the knee of the throughput–latency curve.
/// </summary>
public static class RateSweep
{
    public static SweepResult Find(ServingSimulator simulator, Workload workload, LatencySlo slo,
        double startRate = 1, int bisections = 8, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(slo);
        slo.Validate();
        if (workload.Arrivals is not (ArrivalKind.Poisson or ArrivalKind.Gamma))
            throw new InvalidSettingException("sweep", "a rate sweep needs open-loop (Poisson or gamma) arrivals");
        if (!(startRate > 0) || bisections is < 0 or > 30)
            throw new InvalidSettingException("sweep", "start rate must be positive and bisections between 0 and 30");
        var points = new List<SweepPoint>();
        int planned = 12 + bisections, done = 0;
        SweepPoint Probe(double rate)
        {
            var result = simulator.Run(workload.AtRate(rate), null, cancellation);
            var point = new SweepPoint(rate, slo.IsMetBy(result), result);
            points.Add(point);
            progress?.Report(Math.Min(1, ++done / (double)planned));
            return point;
        }

        double good = 0, bad = double.NaN, rate = startRate;
        var first = Probe(rate);
        if (first.MeetsSlo)
        {
            good = rate;
            for (int i = 0; i < 30; i++)
            {
                rate *= 2;
                if (!Probe(rate).MeetsSlo)
                {
                    bad = rate;
                    break;
                }

                good = rate;
            }
        }
        else
        {
            bad = rate;
            for (int i = 0; i < 20; i++)
            {
                rate /= 2;
                if (Probe(rate).MeetsSlo)
                {
                    good = rate;
                    break;
                }

                bad = rate;
            }
        }

        if (good > 0 && !double.IsNaN(bad))
        {
            for (int i = 0; i < bisections; i++)
            {
                double mid = (good + bad) / 2;
                if (Probe(mid).MeetsSlo)
                    good = mid;
                else
                    bad = mid;
            }
        }

        progress?.Report(1);
        return new SweepResult([.. points.OrderBy(p => p.Rate)], good);
    }
}
