namespace VramFit.Hardware.Detection;

/// <summary>
/// Reads the machine's accelerators and their memory use. Implementations never throw for a missing
/// driver or device: they return <see cref="GpuProbeResult.Unavailable"/> with a one-line reason, so every
/// command can explain itself on a machine without a GPU. A probe may hold a driver session open between
/// calls (sampling calls <see cref="Probe"/> many times a second) and releases it on dispose.
/// </summary>
public interface IGpuProbe : IDisposable
{
    /// <summary>Backend name for messages ("NVML").</summary>
    string Backend { get; }

    /// <summary>Takes one snapshot of every device.</summary>
    GpuProbeResult Probe();
}
