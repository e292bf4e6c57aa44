using VramFit.Errors;
using VramFit.Hardware.Detection;
using static VramFit.Tests.Hardware.Detection.FakeGpuProbe;

namespace VramFit.Tests.Hardware.Detection;

public class CommandMeasurementTests
{
    [Fact]
    public async Task Without_a_driver_nothing_is_run()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"vramfit-measure-{Guid.NewGuid():N}");
        using var probe = Unavailable();
        var e = await Assert.ThrowsAsync<VramFitException>(() =>
            CommandMeasurement.RunAsync(["touch", marker], TimeSpan.FromMilliseconds(50), probe, new ProcfsProcessTree(), CancellationToken.None));
        Assert.Contains("needs an NVIDIA driver", e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was run", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task An_empty_command_is_a_user_error()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 0)));
        await Assert.ThrowsAsync<InvalidSettingException>(() =>
            CommandMeasurement.RunAsync([], TimeSpan.FromMilliseconds(50), probe, new ProcfsProcessTree(), CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_program_is_a_user_error()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 0)));
        var e = await Assert.ThrowsAsync<VramFitException>(() =>
            CommandMeasurement.RunAsync(["vramfit-no-such-program-xyz"], TimeSpan.FromMilliseconds(50), probe, new ProcfsProcessTree(), CancellationToken.None));
        Assert.Contains("could not start", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_the_command_and_reports_its_exit_code()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 200)));
        var m = await CommandMeasurement.RunAsync(["sh", "-c", "exit 3"], TimeSpan.FromMilliseconds(20), probe, new ProcfsProcessTree(), CancellationToken.None);
        Assert.Equal(3, m.ExitCode);
        Assert.False(m.Cancelled);
        Assert.NotEmpty(m.Samples);
        Assert.Equal(["Tesla T4"], m.GpuNames);
        Assert.Equal(0, m.PeakProcessTreeBytes);
    }
}
