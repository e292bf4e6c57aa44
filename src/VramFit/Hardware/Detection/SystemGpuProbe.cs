namespace VramFit.Hardware.Detection;

/// <summary>
/// Detection for <c>vramfit gpus --detect</c> and <c>--gpu auto</c>: NVML first, then rocm-smi. When
/// neither finds a device the reason names both.
/// </summary>
public sealed class SystemGpuProbe : IGpuProbe
{
    private readonly IReadOnlyList<IGpuProbe> _probes;

    public SystemGpuProbe() : this([new NvmlGpuProbe(), new RocmSmiGpuProbe()]) { }

    public SystemGpuProbe(IReadOnlyList<IGpuProbe> probes) =>
        _probes = probes is { Count: > 0 } ? probes : throw new ArgumentException("at least one probe", nameof(probes));

    public string Backend => string.Join(" + ", _probes.Select(p => p.Backend));

    public GpuProbeResult Probe()
    {
        var failures = new List<GpuProbeResult>();
        foreach (var probe in _probes)
        {
            var result = probe.Probe();
            if (result.Available && result.Gpus.Count > 0)
                return result;
            failures.Add(result);
        }

        // Nothing found: report the first backend that ran, else every reason.
        var ran = failures.FirstOrDefault(f => f.Available);
        return ran ?? GpuProbeResult.Unavailable(Backend, string.Join("; ", failures.Select(f => f.Problem)));
    }

    public void Dispose()
    {
        foreach (var probe in _probes)
            probe.Dispose();
    }
}
