using VramFit.Errors;
using VramFit.Hardware.Detection;
using static VramFit.Tests.Hardware.Detection.FakeGpuProbe;

namespace VramFit.Tests.Hardware.Detection;

public class GpuSelectionTests
{
    [Fact]
    public void A_catalog_name_or_size_does_not_touch_the_probe()
    {
        var deployment = GpuSelection.Resolve("h100", 4, () => throw new InvalidOperationException("must not probe"));
        Assert.Equal("h100-sxm", deployment.Gpu.Id);
        Assert.Equal(4, deployment.GpuCount);
        Assert.Null(deployment.FreeBytesPerGpu);
        Assert.Equal(24L << 30, GpuSelection.Resolve("24GiB", null, () => throw new InvalidOperationException()).UsableBytesPerGpu);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("AUTO")]
    [InlineData(null)]
    [InlineData("")]
    public void Auto_or_nothing_uses_detected_free_memory(string? spec)
    {
        var probe = new FakeGpuProbe(Snapshot(Gpu(0, "NVIDIA GeForce RTX 3090", 24576, 4576, (12, 4000))));
        var deployment = GpuSelection.Resolve(spec, null, () => probe);
        Assert.Equal("rtx-3090", deployment.Gpu.Id);
        Assert.Equal(20000L << 20, deployment.UsableBytesPerGpu);
        Assert.True(probe.Disposed);
    }

    [Fact]
    public void Auto_without_a_gpu_says_why_and_what_to_type()
    {
        var e = Assert.Throws<InvalidSettingException>(() => GpuSelection.Resolve("auto", null, () => Unavailable()));
        Assert.Contains("libnvidia-ml.so.1 not found", e.Message, StringComparison.Ordinal);
        Assert.Contains("--gpu 24GiB", e.Message, StringComparison.Ordinal);
    }
}
