using ScottPlot;
using VramFit.Errors;
using VramFit.Simulation;

namespace VramFit.Cli.Charts;

/// <summary>
/// Writes the charts of a serving study with ScottPlot: KV-pool utilisation over time (the file named), and
/// beside it <c>NAME.batch.EXT</c> (batch size over time), <c>NAME.latency.EXT</c> (end-to-end latency CDF) and,
/// after a sweep, <c>NAME.sweep.EXT</c> (throughput and p90 TTFT against offered rate). SVG or PNG by extension.
/// </summary>
internal static class SimulationCharts
{
    private const int Width = 900, Height = 500;

    public static IReadOnlyList<string> Write(string path, ServingStudyResult study)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".svg" or ".png"))
            throw new InvalidSettingException("chart", $"'{path}': use a .svg or .png file name");
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
            Directory.CreateDirectory(folder);
        string Beside(string suffix) => Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path) + suffix + ext);
        var written = new List<string>();

        void Save(Plot plot, string file)
        {
            if (ext == ".svg")
                plot.SaveSvg(file, Width, Height);
            else
                plot.SavePng(file, Width, Height);
            written.Add(file);
        }

        var kv = new Plot();
        foreach (var run in study.Runs)
            Steps(kv, run.KvUtilization, 100, run.Policy.ToString());
        Label(kv, "KV pool utilisation over time", "time (s)", "KV blocks in use (%)");
        Save(kv, path);

        var batch = new Plot();
        foreach (var run in study.Runs)
            Steps(batch, run.BatchSize, 1, run.Policy.ToString());
        Label(batch, "Running batch size over time", "time (s)", "sequences");
        Save(batch, Beside(".batch"));

        var cdf = new Plot();
        double[] percent = [.. Enumerable.Range(0, 101).Select(p => (double)p)];
        foreach (var run in study.Runs.Where(r => r.EndToEndCdf.Length == 101))
            cdf.Add.ScatterLine([.. run.EndToEndCdf], percent).LegendText = run.Policy.ToString();
        Label(cdf, "End-to-end latency CDF", "latency (s)", "requests (%)");
        Save(cdf, Beside(".latency"));

        if (study.Sweep is { Points.Length: > 0 } sweep)
        {
            var plot = new Plot();
            double[] rates = [.. sweep.Points.Select(p => p.Rate)];
            plot.Add.Scatter(rates, [.. sweep.Points.Select(p => p.Result.RequestsPerSecond)]).LegendText = "throughput (req/s)";
            var ttft = plot.Add.Scatter(rates, [.. sweep.Points.Select(p => p.Result.Ttft.P90)]);
            ttft.LegendText = "TTFT p90 (s)";
            ttft.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "TTFT p90 (s)";
            Label(plot, $"Throughput vs offered rate (max meeting SLO: {sweep.MaxRate:0.##} req/s)", "offered rate (req/s)", "throughput (req/s)");
            Save(plot, Beside(".sweep"));
        }

        return written;
    }

    private static void Steps(Plot plot, IReadOnlyList<TimePoint> points, double scale, string label)
    {
        if (points.Count == 0)
            return;
        var xs = new double[points.Count * 2];
        var ys = new double[points.Count * 2];
        for (int i = 0; i < points.Count; i++)
        {
            xs[2 * i] = points[i].Start;
            xs[2 * i + 1] = points[i].End;
            ys[2 * i] = ys[2 * i + 1] = points[i].Value * scale;
        }

        plot.Add.ScatterLine(xs, ys).LegendText = label;
    }

    private static void Label(Plot plot, string title, string x, string y)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend();
    }
}
