using VramFit.Errors;
using VramFit.Hardware.Detection;
using static VramFit.Tests.Hardware.Detection.FakeGpuProbe;

namespace VramFit.Tests.Hardware.Detection;

public class MemorySamplerTests
{
    private const int Root = 500;

    /// <summary>A fixed process tree: the root, one worker, and nothing else.</summary>
    private sealed class FixedTree : IProcessTree
    {
        public IReadOnlySet<int> WithDescendants(int rootPid) => new HashSet<int> { rootPid, 501 };
    }

    [Fact]
    public void A_sample_sums_the_tree_per_device_and_ignores_other_processes()
    {
        using var probe = new FakeGpuProbe(Snapshot(
            Gpu(0, "Tesla T4", 15360, 6000, (Root, 1000), (999, 4000)),
            Gpu(1, "Tesla T4", 15360, 3000, (501, 2500))));
        var sample = new MemorySampler(probe, new FixedTree()).Sample(Root, TimeSpan.FromSeconds(1));
        Assert.Equal(new[] { 1000L << 20, 2500L << 20 }, sample.ProcessTreeBytesPerGpu.ToArray());
        Assert.Equal(3500L << 20, sample.ProcessTreeBytes);
        Assert.Equal(9000L << 20, sample.DeviceUsedBytes);
        Assert.Equal(2, sample.TreeProcessesOnGpu);
    }

    [Fact]
    public async Task Samples_until_the_command_exits_then_once_more()
    {
        // Memory grows, peaks at 3000 MiB, then is freed; the command exits during the fourth wait.
        using var probe = new FakeGpuProbe(
            Snapshot(Gpu(0, "Tesla T4", 15360, 300, (Root, 0))),
            Snapshot(Gpu(0, "Tesla T4", 15360, 1300, (Root, 1000))),
            Snapshot(Gpu(0, "Tesla T4", 15360, 3300, (Root, 3000))),
            Snapshot(Gpu(0, "Tesla T4", 15360, 2300, (Root, 2000))),
            Snapshot(Gpu(0, "Tesla T4", 15360, 300)));
        var exited = new TaskCompletionSource();
        int waits = 0;
        var elapsed = TimeSpan.Zero;
        Task Delay(TimeSpan interval, CancellationToken _)
        {
            elapsed += interval;
            if (++waits == 4)
                exited.SetResult();
            return Task.CompletedTask;
        }

        var sampler = new MemorySampler(probe, new FixedTree(), Delay);
        var samples = await sampler.SampleUntilAsync(Root, exited.Task, TimeSpan.FromMilliseconds(100), () => elapsed, CancellationToken.None);

        Assert.Equal(5, samples.Count);
        Assert.Equal([0, 100, 200, 300, 400], samples.Select(s => (int)s.Elapsed.TotalMilliseconds));
        var baseline = Snapshot(Gpu(0, "Tesla T4", 15360, 300));
        var m = MemorySampler.Summarize(baseline, samples, exitCode: 0, cancelled: false);
        Assert.Equal(3000L << 20, m.PeakProcessTreeBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(200), m.PeakAt);
        Assert.Equal(3000L << 20, m.PeakDeviceGrowthBytes);
        Assert.Equal(new[] { 3000L << 20 }, m.PeakPerGpu.ToArray());
        Assert.True(m.PerProcessAccounting);
        Assert.Equal(TimeSpan.FromMilliseconds(400), m.Duration);
    }

    [Fact]
    public async Task An_already_finished_command_still_gets_one_sample()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 300)));
        var samples = await new MemorySampler(probe, new FixedTree(), (_, _) => throw new InvalidOperationException("must not wait"))
            .SampleUntilAsync(Root, Task.CompletedTask, TimeSpan.FromMilliseconds(100), () => TimeSpan.Zero, CancellationToken.None);
        Assert.Single(samples);
    }

    [Fact]
    public async Task Cancellation_stops_sampling()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 300, (Root, 100))));
        using var cts = new CancellationTokenSource();
        int waits = 0;
        Task Delay(TimeSpan _, CancellationToken __)
        {
            if (++waits == 2)
                cts.Cancel();
            return Task.CompletedTask;
        }

        var never = new TaskCompletionSource().Task;
        var samples = await new MemorySampler(probe, new FixedTree(), Delay)
            .SampleUntilAsync(Root, never, TimeSpan.FromMilliseconds(100), () => TimeSpan.Zero, cts.Token);
        Assert.Equal(3, samples.Count);
    }

    [Fact]
    public void Without_per_process_accounting_the_device_growth_is_the_figure()
    {
        // Containers hide host pids: NVML lists processes the tree cannot be matched to.
        var baseline = Snapshot(Gpu(0, "Tesla T4", 15360, 500));
        var samples = new[]
        {
            new MemorySample(TimeSpan.Zero, [0L], [500L << 20], 0),
            new MemorySample(TimeSpan.FromSeconds(1), [0L], [4500L << 20], 0),
        };
        var m = MemorySampler.Summarize(baseline, samples, 0, false);
        Assert.False(m.PerProcessAccounting);
        Assert.Equal(0, m.PeakProcessTreeBytes);
        Assert.Equal(4000L << 20, m.PeakDeviceGrowthBytes);
    }

    [Fact]
    public void Timeline_thins_samples_but_keeps_the_peak()
    {
        var samples = Enumerable.Range(0, 1000)
            .Select(i => new MemorySample(TimeSpan.FromMilliseconds(i * 10), [i == 637 ? 9_000L : i], [0L], 1))
            .ToList();
        var m = MemorySampler.Summarize(Snapshot(Gpu(0, "Tesla T4", 15360, 0)), samples, 0, false);
        var timeline = m.Timeline(24);
        Assert.Equal(24, timeline.Count);
        Assert.Contains(timeline, s => s.ProcessTreeBytes == 9_000);
        Assert.Equal(timeline.OrderBy(s => s.Elapsed), timeline);
        Assert.Same(m.Samples, m.Timeline(5000));
        Assert.Throws<InvalidSettingException>(() => m.Timeline(0));
    }

    [Theory]
    [InlineData("100ms", 100)]
    [InlineData("0.5s", 500)]
    [InlineData("2s", 2000)]
    [InlineData("250", 250)]
    [InlineData(" 50MS ", 50)]
    public void Parses_intervals(string text, int ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), MemorySampler.ParseInterval(text));

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("1ms")]
    [InlineData("-5s")]
    [InlineData("2h")]
    public void Rejects_bad_intervals(string text) =>
        Assert.Throws<InvalidSettingException>(() => MemorySampler.ParseInterval(text));
}
