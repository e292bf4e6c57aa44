using VramFit.Hardware.Detection;

namespace VramFit.Tests.Hardware.Detection;

/// <summary>
/// A probe that replays scripted snapshots: call n returns snapshot n, the last one repeats. Stands in
/// for NVML on machines without a GPU (CI).
/// </summary>
internal sealed class FakeGpuProbe : IGpuProbe
{
    private readonly IReadOnlyList<GpuProbeResult> _script;

    public FakeGpuProbe(params GpuProbeResult[] script) => _script = script.Length > 0 ? script : throw new ArgumentException("empty script");

    public string Backend => "fake";

    public int Calls { get; private set; }

    public bool Disposed { get; private set; }

    public GpuProbeResult Probe() => _script[Math.Min(Calls++, _script.Count - 1)];

    public void Dispose() => Disposed = true;

    public static FakeGpuProbe Unavailable(string reason = "no NVIDIA driver (libnvidia-ml.so.1 not found)") =>
        new(GpuProbeResult.Unavailable("fake", reason));

    public static GpuProbeResult Snapshot(params DetectedGpu[] gpus) =>
        new() { Available = true, Backend = "fake", DriverVersion = "550.54.15", Gpus = gpus };

    public static DetectedGpu Gpu(int index, string name, long totalMiB, long usedMiB, params (int Pid, long? MiB)[] processes) => new()
    {
        Index = index,
        Name = name,
        TotalBytes = totalMiB << 20,
        UsedBytes = usedMiB << 20,
        FreeBytes = (totalMiB - usedMiB) << 20,
        ComputeCapability = "8.0",
        Processes = processes.Select(p => new GpuProcessUsage(p.Pid, p.MiB is long m ? m << 20 : null)).ToList(),
    };
}
