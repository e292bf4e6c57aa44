using VramFit.Errors;

namespace VramFit.Hardware.Detection;

/// <summary>
/// Turns a <c>--gpu</c> value into a <see cref="Deployment"/>: a catalog name or a size, or
/// <c>auto</c> (also the meaning of no value) for the detected GPUs with their free memory, so a
/// verdict accounts for what other processes already hold.
/// </summary>
public static class GpuSelection
{
    /// <summary>The <c>--gpu</c> value that asks for the detected devices.</summary>
    public const string Auto = "auto";

    /// <summary>Resolves <paramref name="spec"/>, detecting through NVML then rocm-smi (<see cref="SystemGpuProbe"/>).</summary>
    public static Deployment Resolve(string? spec, int? gpuCount = null) => Resolve(spec, gpuCount, () => new SystemGpuProbe());

    /// <summary>
    /// Resolves <paramref name="spec"/>: null, empty or "auto" detects through <paramref name="probeFactory"/>
    /// (the probe is disposed before returning); anything else goes through <see cref="AcceleratorCatalog.Parse"/>.
    /// Throws <see cref="InvalidSettingException"/> when detection finds nothing, naming why and what to type instead.
    /// </summary>
    public static Deployment Resolve(string? spec, int? gpuCount, Func<IGpuProbe> probeFactory)
    {
        ArgumentNullException.ThrowIfNull(probeFactory);
        var text = spec?.Trim();
        if (!string.IsNullOrEmpty(text) && !string.Equals(text, Auto, StringComparison.OrdinalIgnoreCase))
            return new Deployment(AcceleratorCatalog.Parse(text), gpuCount ?? 1);

        GpuDetection detection;
        using (var probe = probeFactory())
            detection = GpuDetector.Detect(probe);
        if (!detection.Found)
        {
            var asked = string.IsNullOrEmpty(text) ? "no --gpu given and no GPU detected" : "--gpu auto found no GPU";
            throw new InvalidSettingException("gpu", $"{asked} ({detection.Probe.Problem ?? detection.Explanation}); name one instead, e.g. --gpu h100-sxm or --gpu 24GiB");
        }

        return detection.ToDeployment(gpuCount);
    }
}
