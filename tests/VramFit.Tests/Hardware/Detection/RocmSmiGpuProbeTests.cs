using VramFit.Hardware.Detection;
using static VramFit.Tests.Hardware.Detection.FakeGpuProbe;

namespace VramFit.Tests.Hardware.Detection;

public class RocmSmiGpuProbeTests
{
    // Shape of `rocm-smi --showmeminfo vram --showproductname --json` (values are strings of bytes).
    private const string TwoMi300x = """
        {
          "card1": {"VRAM Total Memory (B)": "205822885888", "VRAM Total Used Memory (B)": "283115520",
                    "Card series": "AMD Instinct MI300X OAM", "Card model": "0x74a1", "Card vendor": "Advanced Micro Devices, Inc. [AMD/ATI]"},
          "card0": {"VRAM Total Memory (B)": "205822885888", "VRAM Total Used Memory (B)": "10283115520",
                    "Card Series": "AMD Instinct MI300X OAM", "Card model": "0x74a1"},
          "system": {"Driver version": "6.8.5"}
        }
        """;

    [Fact]
    public void Parses_cards_in_index_order_with_free_memory()
    {
        var gpus = RocmSmiGpuProbe.Parse(TwoMi300x);
        Assert.Equal([0, 1], gpus.Select(g => g.Index));
        Assert.Equal(205822885888L - 10283115520L, gpus[0].FreeBytes);
        Assert.Equal("AMD Instinct MI300X OAM", gpus[0].Name);
        Assert.Empty(gpus[0].Processes);
    }

    [Fact]
    public void Detected_cards_match_the_catalog()
    {
        using var probe = new RocmSmiGpuProbe(() => TwoMi300x);
        var detection = GpuDetector.Detect(probe);
        Assert.True(detection.Found);
        Assert.All(detection.Gpus, g => Assert.Equal("mi300x", g.CatalogMatch?.Id));
    }

    [Fact]
    public void Missing_rocm_smi_and_bad_output_are_explained()
    {
        using var missing = new RocmSmiGpuProbe(() => null);
        Assert.Equal("no AMD ROCm tools (rocm-smi not found)", missing.Probe().Problem);
        using var garbage = new RocmSmiGpuProbe(() => "not json");
        Assert.False(garbage.Probe().Available);
        Assert.Empty(RocmSmiGpuProbe.Parse("""{"card0": {"VRAM Total Memory (B)": "N/A"}}"""));
    }

    [Fact]
    public void The_system_probe_falls_through_to_the_first_backend_that_finds_a_gpu()
    {
        using var probe = new SystemGpuProbe([Unavailable(), new RocmSmiGpuProbe(() => TwoMi300x)]);
        Assert.Equal("rocm-smi", probe.Probe().Backend);
    }

    [Fact]
    public void The_system_probe_names_every_reason_when_nothing_is_found()
    {
        using var probe = new SystemGpuProbe([Unavailable(), new RocmSmiGpuProbe(() => null)]);
        var result = probe.Probe();
        Assert.False(result.Available);
        Assert.Equal("no NVIDIA driver (libnvidia-ml.so.1 not found); no AMD ROCm tools (rocm-smi not found)", result.Problem);
    }

    [Fact]
    public void A_running_backend_without_devices_is_reported_as_such()
    {
        using var probe = new SystemGpuProbe([new FakeGpuProbe(Snapshot()), new RocmSmiGpuProbe(() => null)]);
        var result = probe.Probe();
        Assert.True(result.Available);
        Assert.Empty(result.Gpus);
    }
}
