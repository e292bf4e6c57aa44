using VramFit.Hardware.Detection;

namespace VramFit.Tests.Hardware.Detection;

public class NvmlGpuProbeTests
{
    [Fact]
    public void A_missing_library_gives_a_clear_reason_instead_of_a_crash()
    {
        using var probe = new NvmlGpuProbe(["libnvidia-ml-does-not-exist.so.1"]);
        var result = probe.Probe();
        Assert.False(result.Available);
        Assert.Equal("NVML", result.Backend);
        Assert.Equal("no NVIDIA driver (libnvidia-ml-does-not-exist.so.1 not found)", result.Problem);
        Assert.Empty(result.Gpus);
        // Asking again (as the sampler does) answers the same without retrying the load.
        Assert.Equal(result.Problem, probe.Probe().Problem);
    }

    [Fact]
    public void A_library_without_the_nvml_entry_points_is_reported_as_too_old()
    {
        // libc is loadable everywhere this runs but exports no nvml* function.
        using var probe = new NvmlGpuProbe(["libc.so.6"]);
        var result = probe.Probe();
        Assert.False(result.Available);
        Assert.Contains("nvmlInit_v2", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_real_probe_never_throws_on_this_machine()
    {
        // With a driver it lists devices; without one (CI) it explains. Either way: no exception.
        using var probe = new NvmlGpuProbe();
        var result = probe.Probe();
        Assert.True(result.Available || result.Problem!.Length > 0);
        var detection = GpuDetector.Detect(probe);
        Assert.Equal(detection.Found, detection.Explanation is null);
    }
}
