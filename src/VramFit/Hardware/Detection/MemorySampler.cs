using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using VramFit.Errors;

namespace VramFit.Hardware.Detection;

/// <summary>One reading of device memory while a command runs.</summary>
/// <param name="Elapsed">Time since the command started.</param>
/// <param name="ProcessTreeBytesPerGpu">Bytes the measured process tree holds on each device (driver per-process accounting).</param>
/// <param name="DeviceUsedBytesPerGpu">Bytes in use on each device by anyone (the driver's used figure, including its own reservations).</param>
/// <param name="TreeProcessesOnGpu">How many processes of the tree the driver listed on any device.</param>
public sealed record MemorySample(TimeSpan Elapsed, ImmutableArray<long> ProcessTreeBytesPerGpu, ImmutableArray<long> DeviceUsedBytesPerGpu, int TreeProcessesOnGpu)
{
    /// <summary>Bytes the process tree holds summed over devices.</summary>
    public long ProcessTreeBytes => ProcessTreeBytesPerGpu.Sum();

    /// <summary>Bytes used on all devices by anyone.</summary>
    public long DeviceUsedBytes => DeviceUsedBytesPerGpu.Sum();
}

/// <summary>
/// What a measured run used: the peak the process tree held (per-process accounting), the peak growth of
/// device-used memory over the baseline taken before the command started (which also catches memory the
/// driver does not attribute to a process, such as the CUDA context under some container setups), and
/// the timeline of samples.
/// </summary>
public sealed record MemoryMeasurement
{
    public required IReadOnlyList<string> GpuNames { get; init; }

    /// <summary>Device-used bytes per device just before the command started.</summary>
    public required ImmutableArray<long> BaselineUsedBytesPerGpu { get; init; }

    public required IReadOnlyList<MemorySample> Samples { get; init; }

    /// <summary>Exit code of the command; null when it was stopped (Ctrl-C) before it exited.</summary>
    public int? ExitCode { get; init; }

    public bool Cancelled { get; init; }

    /// <summary>Highest sum over devices the process tree held at one sample.</summary>
    public long PeakProcessTreeBytes => Samples.Count == 0 ? 0 : Samples.Max(s => s.ProcessTreeBytes);

    /// <summary>When <see cref="PeakProcessTreeBytes"/> was first reached.</summary>
    public TimeSpan PeakAt => Samples.Count == 0 ? TimeSpan.Zero : Samples.First(s => s.ProcessTreeBytes == PeakProcessTreeBytes).Elapsed;

    /// <summary>Highest amount the tree held on each device (maxima may come from different samples).</summary>
    public ImmutableArray<long> PeakPerGpu =>
        [.. Enumerable.Range(0, GpuNames.Count).Select(i => Samples.Count == 0 ? 0 : Samples.Max(s => i < s.ProcessTreeBytesPerGpu.Length ? s.ProcessTreeBytesPerGpu[i] : 0))];

    /// <summary>Highest growth of device-used memory (all devices) over the baseline; never negative.</summary>
    public long PeakDeviceGrowthBytes => Samples.Count == 0 ? 0 : Math.Max(0, Samples.Max(s => s.DeviceUsedBytes) - BaselineUsedBytesPerGpu.Sum());

    /// <summary>
    /// The driver attributed memory to the tree at least once. When false (pid namespaces hide the
    /// processes, or the driver reports "not available"), <see cref="PeakDeviceGrowthBytes"/> is the figure to use.
    /// </summary>
    public bool PerProcessAccounting => Samples.Any(s => s.TreeProcessesOnGpu > 0);

    /// <summary>The run's length: the last sample's time.</summary>
    public TimeSpan Duration => Samples.Count == 0 ? TimeSpan.Zero : Samples[^1].Elapsed;

    /// <summary>
    /// At most <paramref name="maxPoints"/> samples for a chart: the samples are cut into equal runs and each
    /// run is represented by its highest reading, so the peak always survives the thinning.
    /// </summary>
    public IReadOnlyList<MemorySample> Timeline(int maxPoints)
    {
        if (maxPoints < 1)
            throw new InvalidSettingException("points", "must be at least 1");
        if (Samples.Count <= maxPoints)
            return Samples;
        var result = new List<MemorySample>(maxPoints);
        for (int b = 0; b < maxPoints; b++)
        {
            int from = (int)((long)b * Samples.Count / maxPoints);
            int to = (int)((long)(b + 1) * Samples.Count / maxPoints);
            var best = Samples[from];
            for (int i = from + 1; i < to; i++)
                if (Samples[i].ProcessTreeBytes > best.ProcessTreeBytes)
                    best = Samples[i];
            result.Add(best);
        }

        return result;
    }
}

/// <summary>
/// Samples the device memory a process tree holds, through an <see cref="IGpuProbe"/>. The clock and the
/// wait between samples are injectable so the loop is tested without real time.
/// </summary>
public sealed class MemorySampler
{
    /// <summary>Shortest sampling interval: NVML queries take around a millisecond per device.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(10);

    private readonly IGpuProbe _probe;
    private readonly IProcessTree _tree;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    public MemorySampler(IGpuProbe probe, IProcessTree tree, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        _probe = probe ?? throw new ArgumentNullException(nameof(probe));
        _tree = tree ?? throw new ArgumentNullException(nameof(tree));
        _delay = delay ?? Task.Delay;
    }

    /// <summary>
    /// Parses an interval: "100ms", "0.5s", "2s", or a bare number of milliseconds. Throws
    /// <see cref="InvalidSettingException"/> for malformed values or values under <see cref="MinimumInterval"/>.
    /// </summary>
    public static TimeSpan ParseInterval(string text)
    {
        var s = (text ?? "").Trim().ToLowerInvariant();
        double scaleMs = 1;
        if (s.EndsWith("ms", StringComparison.Ordinal)) s = s[..^2];
        else if (s.EndsWith('s')) { s = s[..^1]; scaleMs = 1000; }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || double.IsInfinity(value))
            throw new InvalidSettingException("interval", $"'{text}' is not a duration (examples: 100ms, 0.5s, 250)");
        var interval = TimeSpan.FromMilliseconds(value * scaleMs);
        if (interval < MinimumInterval || interval > TimeSpan.FromHours(1))
            throw new InvalidSettingException("interval", $"'{text}' must be between {MinimumInterval.TotalMilliseconds} ms and 1 hour");
        return interval;
    }

    /// <summary>Device-used bytes per device right now (the baseline before a command starts).</summary>
    public GpuProbeResult Snapshot() => _probe.Probe();

    /// <summary>One sample of what the tree rooted at <paramref name="rootPid"/> holds.</summary>
    public MemorySample Sample(int rootPid, TimeSpan elapsed)
    {
        var snapshot = _probe.Probe();
        if (!snapshot.Available)
            return new MemorySample(elapsed, [], [], 0);
        var pids = _tree.WithDescendants(rootPid);
        var tree = ImmutableArray.CreateBuilder<long>(snapshot.Gpus.Count);
        var used = ImmutableArray.CreateBuilder<long>(snapshot.Gpus.Count);
        var seen = new HashSet<int>();
        foreach (var gpu in snapshot.Gpus)
        {
            long bytes = 0;
            foreach (var p in gpu.Processes)
                if (pids.Contains(p.Pid))
                {
                    bytes += p.UsedBytes ?? 0;
                    seen.Add(p.Pid);
                }

            tree.Add(bytes);
            used.Add(gpu.UsedBytes);
        }

        return new MemorySample(elapsed, tree.MoveToImmutable(), used.MoveToImmutable(), seen.Count);
    }

    /// <summary>
    /// Samples every <paramref name="interval"/> until <paramref name="exited"/> completes or
    /// <paramref name="cancellation"/> fires, always taking a first sample and one after the end.
    /// </summary>
    public async Task<IReadOnlyList<MemorySample>> SampleUntilAsync(int rootPid, Task exited, TimeSpan interval, Func<TimeSpan> clock, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(exited);
        ArgumentNullException.ThrowIfNull(clock);
        var samples = new List<MemorySample>();
        while (true)
        {
            samples.Add(Sample(rootPid, clock()));
            if (exited.IsCompleted || cancellation.IsCancellationRequested)
                break;
            var wait = _delay(interval, cancellation);
            await Task.WhenAny(exited, wait).ConfigureAwait(false);
        }

        return samples;
    }

    /// <summary>Builds the measurement from a baseline snapshot and the samples of a run.</summary>
    public static MemoryMeasurement Summarize(GpuProbeResult baseline, IReadOnlyList<MemorySample> samples, int? exitCode, bool cancelled)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return new MemoryMeasurement
        {
            GpuNames = baseline.Gpus.Select(g => g.Name).ToList(),
            BaselineUsedBytesPerGpu = [.. baseline.Gpus.Select(g => g.UsedBytes)],
            Samples = samples,
            ExitCode = exitCode,
            Cancelled = cancelled,
        };
    }

    /// <summary>A clock starting now, for <see cref="SampleUntilAsync"/>.</summary>
    public static Func<TimeSpan> StartClock()
    {
        var watch = Stopwatch.StartNew();
        return () => watch.Elapsed;
    }
}
