using System.Collections.Concurrent;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using VramFit.Simulation;

namespace VramFit.Benchmarks;

/// <summary>
/// Columns for benchmarks that return a <see cref="SimulationResult"/>: scheduler iterations simulated per second
/// of wall time (the run's <see cref="SimulationResult.Iterations"/> / mean time) and the run's mean batch size.
/// The run is deterministic, so the host replays each case once to read them.
/// </summary>
public sealed class SimulationColumn : IColumn
{
    public static readonly IColumn IterationsPerSecond = new SimulationColumn(true);
    public static readonly IColumn MeanBatch = new SimulationColumn(false);

    private static readonly ConcurrentDictionary<string, SimulationResult?> Results = new();
    private readonly bool _rate;

    private SimulationColumn(bool rate) => _rate = rate;

    public string Id => _rate ? "SimulatedIterationsPerSecond" : "SimulatedMeanBatch";

    public string ColumnName => _rate ? "Iterations/s" : "Mean batch";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => _rate ? 0 : 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => _rate
        ? "Scheduler iterations the run simulates per second of wall time (its iterations / Mean)"
        : "Time-weighted mean number of running sequences in the simulated run";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        if (Replay(benchmarkCase) is not { } result)
            return "-";
        if (!_rate)
            return result.MeanBatchSize.ToString("N1", System.Globalization.CultureInfo.InvariantCulture);
        if (summary[benchmarkCase]?.ResultStatistics is not { Mean: > 0 } stats)
            return "-";
        return (result.Iterations / (stats.Mean / 1e9)).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static SimulationResult? Replay(BenchmarkCase benchmarkCase) =>
        Results.GetOrAdd(benchmarkCase.DisplayInfo, _ =>
        {
            var descriptor = benchmarkCase.Descriptor;
            if (descriptor.WorkloadMethod.ReturnType != typeof(SimulationResult))
                return null;
            object instance = Activator.CreateInstance(descriptor.Type)!;
            foreach (var parameter in benchmarkCase.Parameters.Items)
                descriptor.Type.GetProperty(parameter.Name)?.SetValue(instance, parameter.Value);
            descriptor.GlobalSetupMethod?.Invoke(instance, null);
            return (SimulationResult?)descriptor.WorkloadMethod.Invoke(instance, null);
        });
}
