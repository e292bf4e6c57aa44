using System.Collections.Immutable;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Performance;

namespace VramFit.Simulation;

/// <summary>
/// Everything a serving study needs: the model and its formats, the hardware and its split, the efficiency
/// factors, the scheduler with its KV pool (from an engine estimate's <c>ServingCapacity</c>) and the traffic.
/// </summary>
public sealed record ServingScenario
{
    public required ModelDescription Model { get; init; }

    /// <summary>Weight format; null = the checkpoint's own.</summary>
    public WeightFormat? Format { get; init; }

    public ScalarType KvCacheType { get; init; } = ScalarType.BF16;

    public required Accelerator Gpu { get; init; }

    public ParallelLayout Layout { get; init; } = ParallelLayout.Single;

    public EfficiencyFactors Efficiency { get; init; } = EfficiencyFactors.Default;

    public OffloadPlan Offload { get; init; } = OffloadPlan.None;

    public required SchedulerOptions Scheduler { get; init; }

    public required Workload Workload { get; init; }
}

/// <summary>A policy comparison (or a single run) of one scenario, with the performance model that priced it.</summary>
public sealed record ServingStudyResult(PerformanceEstimate Performance, ImmutableArray<SimulationResult> Runs, SweepResult? Sweep);

/// <summary>
/// Runs serving studies: builds the <see cref="PerformanceModel"/> of a scenario once and drives the simulator
/// with it, for one policy, several side by side, or a rate sweep against a latency target.
/// </summary>
public static class ServingStudy
{
    /// <summary>The roofline model of <paramref name="scenario"/>'s replica.</summary>
    public static PerformanceModel BuildModel(ServingScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return PerformanceModel.Create(ModelProfile.Create(scenario.Model, scenario.Format), scenario.Gpu,
            scenario.KvCacheType, scenario.Layout, scenario.Efficiency, scenario.Offload);
    }

    /// <summary>
    /// Simulates <paramref name="scenario"/> under each of <paramref name="policies"/> (the same drawn requests for
    /// all), and when <paramref name="slo"/> is given also sweeps the rate under the scenario's own policy.
    /// </summary>
    public static ServingStudyResult Run(ServingScenario scenario, IReadOnlyList<BatchingPolicy> policies,
        LatencySlo? slo = null, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(policies);
        var model = BuildModel(scenario);
        // swapping moves this rank's share of every layer's KV: bytes per token over the tensor-parallel degree
        var scheduler = scenario.Scheduler.KvBytesPerToken > 0 ? scenario.Scheduler
            : scenario.Scheduler with { KvBytesPerToken = model.KvBytesPerToken / scenario.Layout.TensorParallel };
        var plan = scenario.Workload.Generate();
        var meanPrompt = (int)Math.Max(1, Math.Round(plan.PromptTokens.Average()));
        var meanOutput = (int)Math.Max(1, Math.Round(plan.OutputTokens.Average()));
        // the headline figures are those of one unqueued request: TTFT of a mean prompt, TPOT of a single stream
        var performance = model.Estimate(meanPrompt, meanOutput, 1);
        int parts = policies.Count + (slo is null ? 0 : 1), part = 0;
        var runs = ImmutableArray.CreateBuilder<SimulationResult>();
        foreach (var policy in policies)
        {
            int index = part++;
            var sub = progress is null ? null : new Progress(progress, index, parts);
            runs.Add(new ServingSimulator(model, scheduler with { Policy = policy }).Run(plan, sub, cancellation));
        }

        SweepResult? sweep = null;
        if (slo is not null)
        {
            var sub = progress is null ? null : new Progress(progress, part, parts);
            sweep = RateSweep.Find(new ServingSimulator(model, scheduler), scenario.Workload, slo,
                Math.Max(scenario.Workload.Rate, 0.01), progress: sub, cancellation: cancellation);
        }

        progress?.Report(1);
        return new ServingStudyResult(performance, runs.ToImmutable(), sweep);
    }

    /// <summary>Maps a part's 0–1 progress into its slice of the whole; reports synchronously.</summary>
    private sealed class Progress(IProgress<double> whole, int index, int parts) : IProgress<double>
    {
        public void Report(double value) => whole.Report((index + Math.Clamp(value, 0, 1)) / parts);
    }
}
