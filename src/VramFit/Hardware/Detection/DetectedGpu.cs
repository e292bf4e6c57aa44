namespace VramFit.Hardware.Detection;

/// <summary>Device memory one process holds, as the driver accounts it.</summary>
/// <param name="Pid">Process id as the driver sees it (the host's pid namespace).</param>
/// <param name="UsedBytes">Bytes the process holds on the device; null when the driver does not say (NVML reports "not available" under some virtualisation and on Windows WDDM).</param>
public sealed record GpuProcessUsage(int Pid, long? UsedBytes);

/// <summary>
/// One physical device as a probe saw it at one moment: memory totals, the processes using it, and,
/// after <see cref="GpuDetector"/> has run, the catalog entry it matches.
/// </summary>
public sealed record DetectedGpu
{
    /// <summary>Driver index (the order of <c>nvidia-smi</c> and <c>CUDA_VISIBLE_DEVICES</c> with PCI bus order).</summary>
    public required int Index { get; init; }

    /// <summary>Name as the driver prints it ("NVIDIA A100-SXM4-80GB").</summary>
    public required string Name { get; init; }

    public required long TotalBytes { get; init; }

    public required long FreeBytes { get; init; }

    public required long UsedBytes { get; init; }

    /// <summary>CUDA compute capability ("8.0"); null when unknown.</summary>
    public string? ComputeCapability { get; init; }

    /// <summary>Host link, from the maximum PCIe generation and width the device supports; null when unknown.</summary>
    public Interconnect? PcieLink { get; init; }

    /// <summary>Compute processes holding memory on the device.</summary>
    public IReadOnlyList<GpuProcessUsage> Processes { get; init; } = [];

    /// <summary>Matching catalog entry (throughput, bandwidth); null when the part is not in the catalog.</summary>
    public Accelerator? CatalogMatch { get; init; }

    /// <summary>
    /// The accelerator to plan with: the catalog entry with this device's real capacity, or a custom
    /// entry of that capacity when the part is unknown.
    /// </summary>
    public Accelerator Accelerator =>
        CatalogMatch is { } m
            ? (m.MemoryBytes == TotalBytes ? m : m with { MemoryBytes = TotalBytes, GpuWorkingSetBytes = null })
            : AcceleratorCatalog.Custom(TotalBytes, Name) with { ComputeCapability = ComputeCapability, Interconnect = PcieLink?.Name, InterconnectGBps = PcieLink?.BidirectionalGBps ?? 0 };

    /// <summary>Memory held by processes other than <paramref name="excludedPids"/> (other users of the card).</summary>
    public long BytesUsedByOthers(IReadOnlySet<int> excludedPids) =>
        Processes.Where(p => !excludedPids.Contains(p.Pid)).Sum(p => p.UsedBytes ?? 0);
}

/// <summary>What one probe call found: the devices, or why there are none.</summary>
public sealed record GpuProbeResult
{
    /// <summary>The probe's backend could be reached (a driver is installed), even if it lists no device.</summary>
    public required bool Available { get; init; }

    /// <summary>Why the backend is unavailable or failed ("no NVIDIA driver (libnvidia-ml.so.1 not found)"); null when fine.</summary>
    public string? Problem { get; init; }

    /// <summary>Backend name ("NVML").</summary>
    public required string Backend { get; init; }

    /// <summary>Driver version the backend reports; null when unknown.</summary>
    public string? DriverVersion { get; init; }

    public IReadOnlyList<DetectedGpu> Gpus { get; init; } = [];

    /// <summary>A result for a machine where the backend cannot run.</summary>
    public static GpuProbeResult Unavailable(string backend, string problem) =>
        new() { Available = false, Backend = backend, Problem = problem };
}
