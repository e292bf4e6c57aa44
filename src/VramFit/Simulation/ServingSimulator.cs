using VramFit.Performance;

namespace VramFit.Simulation;

/// <summary>
/// Deterministic discrete-event simulation of one serving replica. Time advances by whole engine iterations,
/// each priced by an <see cref="IStepTimeModel"/> (normally the <see cref="PerformanceModel"/>) from the
/// batch's prefill tokens, decodes and attended KV; when the engine is idle the clock jumps to the next
/// arrival. The KV pool is paged: blocks of <see cref="SchedulerOptions.BlockSize"/> tokens out of
/// <see cref="SchedulerOptions.KvCacheTokens"/>. Same workload, same options, same result, bit for bit.
/// </summary>
public sealed class ServingSimulator
{
    public ServingSimulator(IStepTimeModel stepTime, SchedulerOptions options)
    {
        StepTime = stepTime ?? throw new ArgumentNullException(nameof(stepTime));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    public IStepTimeModel StepTime { get; }

    public SchedulerOptions Options { get; }

    /// <summary>Simulates <paramref name="workload"/>; <paramref name="progress"/> receives the completed fraction.</summary>
    public SimulationResult Run(Workload workload, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return Run(workload.Generate(), progress, cancellation);
    }

    /// <summary>Simulates already drawn requests.</summary>
    public SimulationResult Run(RequestPlan plan, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var run = new SimulationRun(StepTime, Options, plan, progress, cancellation);
        if (Options.Policy == BatchingPolicy.Continuous)
            run.RunContinuous();
        else
            run.RunBatched();
        return run.Result();
    }
}
