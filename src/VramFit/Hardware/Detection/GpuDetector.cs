using VramFit.Errors;

namespace VramFit.Hardware.Detection;

/// <summary>The machine's accelerators as detected, each matched to the catalog where possible.</summary>
public sealed record GpuDetection
{
    /// <summary>The raw probe result, with <see cref="DetectedGpu.CatalogMatch"/> filled in.</summary>
    public required GpuProbeResult Probe { get; init; }

    public IReadOnlyList<DetectedGpu> Gpus => Probe.Gpus;

    /// <summary>True when at least one device was found.</summary>
    public bool Found => Probe.Available && Probe.Gpus.Count > 0;

    /// <summary>Why nothing was found, in one line; null when devices were found.</summary>
    public string? Explanation =>
        Found ? null
        : !Probe.Available ? $"{Probe.Problem}; estimates use the GPU catalog instead (--gpu NAME or --gpu 24GiB)"
        : $"{Probe.Backend} is running but reports no GPU";

    /// <summary>
    /// The deployment an estimate should check against: all detected devices (or the first
    /// <paramref name="gpuCount"/>), with the smallest free memory among them, so the verdict accounts for
    /// what other processes already hold. Mixed models plan with the device that has the least free memory.
    /// </summary>
    public Deployment ToDeployment(int? gpuCount = null)
    {
        if (!Found)
            throw new InvalidSettingException("gpu auto", $"no GPU detected: {Explanation}");
        var chosen = Probe.Gpus.Take(gpuCount ?? Probe.Gpus.Count).ToList();
        if (gpuCount is int n && n > Probe.Gpus.Count)
            throw new InvalidSettingException("gpus", $"{n} GPUs requested but {Probe.Gpus.Count} detected");
        var tightest = chosen.MinBy(g => g.FreeBytes)!;
        return new Deployment(tightest.Accelerator, chosen.Count, freeBytesPerGpu: tightest.FreeBytes);
    }
}

/// <summary>Runs a probe and matches what it found to <see cref="AcceleratorCatalog"/>.</summary>
public static class GpuDetector
{
    /// <summary>
    /// Takes one snapshot through <paramref name="probe"/>. Never throws for a missing driver: the result
    /// says why nothing was found.
    /// </summary>
    public static GpuDetection Detect(IGpuProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var result = probe.Probe();
        var matched = result.Gpus.Select(g => g with { CatalogMatch = g.CatalogMatch ?? Match(g) }).ToList();
        return new GpuDetection { Probe = result with { Gpus = matched } };
    }

    /// <summary>
    /// The catalog entry for a driver-reported device. Several parts share a driver name ("NVIDIA GeForce
    /// RTX 3060" is sold with 8 and 12 GB): among entries with the name, the one closest in capacity wins.
    /// </summary>
    public static Accelerator? Match(DetectedGpu gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        var key = AcceleratorCatalog.Normalize(gpu.Name);
        var candidates = AcceleratorCatalog.All
            .Where(a => AcceleratorCatalog.Normalize(a.Name) == key || a.Aliases.Any(alias => AcceleratorCatalog.Normalize(alias) == key))
            .ToList();
        if (candidates.Count == 0)
            return AcceleratorCatalog.TryFind(gpu.Name);
        return candidates.MinBy(a => Math.Abs(a.MemoryBytes - gpu.TotalBytes));
    }
}
