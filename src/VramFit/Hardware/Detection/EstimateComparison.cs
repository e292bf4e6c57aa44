using VramFit.Reports;

namespace VramFit.Hardware.Detection;

/// <summary>One GPU's estimate next to what a real run used.</summary>
/// <param name="MeasuredBytes">Peak bytes the process tree held on this GPU (NVML per-process accounting), or
/// the device's growth over its baseline when the driver attributes nothing to processes.</param>
public sealed record ComparisonRow(string Gpu, long EstimatedBytes, long MeasuredBytes)
{
    /// <summary>(estimated − measured) / measured in percent; null when nothing was measured.</summary>
    public double? ErrorPct => MeasuredBytes > 0 ? 100.0 * (EstimatedBytes - MeasuredBytes) / MeasuredBytes : null;
}

/// <summary><c>vramfit measure --compare</c>: the estimate's accelerators paired with the measured GPUs in order.</summary>
public static class EstimateComparison
{
    public static IReadOnlyList<ComparisonRow> Compare(MemoryReport estimate, MemoryMeasurement measurement)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(measurement);
        var gpus = estimate.Accelerators.ToList();
        var rows = new List<ComparisonRow>();
        bool perProcess = measurement.PerProcessAccounting && measurement.PeakProcessTreeBytes > 0;
        for (int i = 0; i < Math.Max(gpus.Count, measurement.GpuNames.Count); i++)
        {
            long estimated = i < gpus.Count ? gpus[i].TotalBytes : 0;
            long measured = i >= measurement.GpuNames.Count ? 0
                : perProcess ? measurement.PeakPerGpu[i]
                : DeviceGrowth(measurement, i);
            string name = i < measurement.GpuNames.Count ? $"GPU {i} {measurement.GpuNames[i]}" : i < gpus.Count ? gpus[i].Device : $"GPU {i}";
            rows.Add(new ComparisonRow(name, estimated, measured));
        }

        return rows;
    }

    /// <summary>Peak device-wide growth over this GPU's baseline (what other processes held before the command).</summary>
    private static long DeviceGrowth(MemoryMeasurement m, int gpu)
    {
        long peak = 0;
        foreach (var s in m.Samples)
            if (s.DeviceUsedBytesPerGpu is { IsDefault: false } per && gpu < per.Length)
                peak = Math.Max(peak, per[gpu] - m.BaselineUsedBytesPerGpu[gpu]);
        return Math.Max(0, peak);
    }
}
