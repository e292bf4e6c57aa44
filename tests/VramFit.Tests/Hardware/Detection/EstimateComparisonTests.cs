using System.Collections.Immutable;
using VramFit.Hardware.Detection;
using VramFit.Reports;

namespace VramFit.Tests.Hardware.Detection;

public class EstimateComparisonTests
{
    private static MemoryReport Report(params long[] gpuBytes) => new()
    {
        Engine = "test",
        Model = "m",
        Parameters = 1,
        Devices = [.. gpuBytes.Select((b, i) => new DeviceMemory
        {
            Device = $"GPU{i}", CapacityBytes = 24L << 30,
            Items = [new MemoryItem { Name = "weights", Category = MemoryCategory.Weights, Bytes = b, Device = $"GPU{i}" }],
        })],
    };

    private static MemoryMeasurement Measurement(bool perProcess, params (long Tree, long Used)[] peakPerGpu) => new()
    {
        GpuNames = [.. peakPerGpu.Select((_, i) => $"Tesla T4 #{i}")],
        BaselineUsedBytesPerGpu = [.. peakPerGpu.Select(_ => 300L << 20)],
        Samples =
        [
            new MemorySample(TimeSpan.Zero, [.. peakPerGpu.Select(_ => 0L)], [.. peakPerGpu.Select(_ => 300L << 20)], 0),
            // the driver attributes memory to the command's processes only with per-process accounting
            new MemorySample(TimeSpan.FromSeconds(1), [.. peakPerGpu.Select(p => perProcess ? p.Tree : 0)], [.. peakPerGpu.Select(p => p.Used)], perProcess ? 1 : 0),
        ],
    };

    [Fact]
    public void Per_process_peaks_pair_with_the_estimated_gpus_in_order()
    {
        var rows = EstimateComparison.Compare(Report(10L << 30, 8L << 30), Measurement(true, (9L << 30, 12L << 30), (8L << 30, 9L << 30)));
        Assert.Equal(2, rows.Count);
        Assert.Equal(9L << 30, rows[0].MeasuredBytes);
        Assert.Equal(100.0 / 9, rows[0].ErrorPct!.Value, 6);
        Assert.Equal(0.0, rows[1].ErrorPct!.Value, 6);
    }

    [Fact]
    public void Without_per_process_accounting_the_device_growth_over_baseline_is_used()
    {
        var rows = EstimateComparison.Compare(Report(4L << 30), Measurement(false, (0, (300L << 20) + (5L << 30))));
        Assert.Equal(5L << 30, rows.Single().MeasuredBytes);
        Assert.Equal(-20.0, rows.Single().ErrorPct!.Value, 6);
    }

    [Fact]
    public void Nothing_measured_has_no_error_figure()
    {
        var rows = EstimateComparison.Compare(Report(4L << 30, 4L << 30), Measurement(true, (1L << 30, 2L << 30)));
        Assert.Null(rows[1].ErrorPct);
    }

    [Fact]
    public void Compare_arguments_are_parsed_by_the_estimate_options()
    {
        var report = VramFit.Cli.Commands.MeasureCommand.EstimateArguments("meta-llama/Llama-3.1-8B --gpu rtx-4090 --context 8192");
        Assert.Equal("transformers", report.Engine);
        Assert.Throws<VramFit.Errors.InvalidSettingException>(() => VramFit.Cli.Commands.MeasureCommand.EstimateArguments("Llama-3.1-8B --no-such-option 3"));
    }
}
