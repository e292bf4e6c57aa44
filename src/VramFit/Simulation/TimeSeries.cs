using System.Collections.Immutable;

namespace VramFit.Simulation;

/// <summary>One point of a time series: the time-weighted mean of a quantity over [Start, End).</summary>
public readonly record struct TimePoint(double Start, double End, double Value);

/// <summary>
/// Records a step function (KV utilisation, batch size) over millions of steps in bounded memory: values are
/// averaged, weighted by time, into buckets of equal width; when the buckets run out, neighbours merge and
/// the width doubles. The result always covers the whole run in at most <c>capacity</c> points.
/// </summary>
public sealed class TimeSeriesRecorder
{
    private readonly double[] _sum;
    private readonly int _capacity;
    private double _width;
    private int _count;
    private double _end;

    public TimeSeriesRecorder(int capacity = 512, double initialWidth = 1e-3)
    {
        _capacity = capacity;
        _sum = new double[capacity];
        _width = initialWidth;
    }

    /// <summary>Adds <paramref name="value"/> held from the current end of the series to <paramref name="end"/>.</summary>
    public void Add(double end, double value)
    {
        double start = _end;
        if (!double.IsFinite(end))
            throw new InvalidOperationException($"time series end {end} is not finite");
        if (end <= start)
            return;
        while (end > _width * _capacity)
            Merge();
        double t = start;
        while (t < end)
        {
            int b = Math.Min((int)(t / _width), _capacity - 1);
            double bucketEnd = (b + 1) * _width;
            double until = Math.Min(end, bucketEnd);
            _sum[b] += value * (until - t);
            _count = Math.Max(_count, b + 1);
            t = until;
            if (until == bucketEnd && until < end && b == _capacity - 1)
                break;
        }

        _end = end;
    }

    public ImmutableArray<TimePoint> ToPoints()
    {
        var list = ImmutableArray.CreateBuilder<TimePoint>(_count);
        for (int b = 0; b < _count; b++)
        {
            double start = b * _width, stop = Math.Min((b + 1) * _width, _end);
            if (stop > start)
                list.Add(new TimePoint(start, stop, _sum[b] / (stop - start)));
        }

        return list.ToImmutable();
    }

    private void Merge()
    {
        int half = (_count + 1) / 2;
        for (int b = 0; b < half; b++)
            _sum[b] = _sum[2 * b] + (2 * b + 1 < _capacity ? _sum[2 * b + 1] : 0);
        Array.Clear(_sum, half, _capacity - half);
        _count = half;
        _width *= 2;
    }
}
