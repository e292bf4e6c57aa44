using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using VramFit.Hardware.Detection;
using VramFit.Units;

namespace VramFit.Cli.Commands;

/// <summary>
/// <c>vramfit measure [--interval 100ms] [--json] -- &lt;command…&gt;</c>: runs a command and reports the
/// peak device memory its process tree used, with a timeline.
/// </summary>
internal static class MeasureCommand
{
    /// <summary>Bars in the human timeline chart.</summary>
    private const int ChartPoints = 24;

    public static Command Create(CliContext context, Func<IGpuProbe>? probeFactory = null, IProcessTree? processTree = null)
    {
        var interval = new Option<string>("--interval") { Description = "Sampling interval (100ms, 0.5s)", DefaultValueFactory = _ => "100ms" };
        var json = new Option<bool>("--json") { Description = "Print JSON (sizes in bytes, times in milliseconds)" };
        var compare = new Option<string?>("--compare")
        {
            Description = "Estimate arguments to compare with, as for 'vramfit estimate' (e.g. \"meta-llama/Llama-3.1-8B --engine vllm --context 8192\")",
        };
        var run = new Argument<string[]>("command") { Description = "The command to run, after --", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("measure", "Run a command and measure the GPU memory its processes use (needs an NVIDIA driver)") { interval, json, compare, run };
        command.SetAction(async (parse, cancellation) =>
        {
            var every = MemorySampler.ParseInterval(parse.GetValue(interval)!);
            // resolve the estimate first: a typo should not cost a whole measured run
            var estimate = parse.GetValue(compare) is { } args ? EstimateArguments(args) : null;
            using var probe = (probeFactory ?? (() => new NvmlGpuProbe()))();
            var measurement = await CommandMeasurement.RunAsync(parse.GetValue(run) ?? [], every, probe, processTree ?? new ProcfsProcessTree(), cancellation);
            var rows = estimate is null ? null : EstimateComparison.Compare(estimate, measurement);
            if (parse.GetValue(json))
            {
                WriteJson(context.Out, measurement, rows);
            }
            else
            {
                Render(context.Out, measurement);
                if (rows is not null)
                    RenderComparison(context.Out, rows, estimate!);
            }
            return measurement.Cancelled ? 130 : measurement.ExitCode ?? 0;
        });
        return command;
    }

    /// <summary>Parses "model --engine … --context …" with the estimate command's own options and runs it.</summary>
    internal static Reports.MemoryReport EstimateArguments(string arguments)
    {
        var options = new EngineOptions();
        var command = new Command("estimate");
        options.AddTo(command);
        var parse = command.Parse(CommandLineParser.SplitCommandLine(arguments).ToArray());
        if (parse.Errors.Count > 0)
            throw new Errors.InvalidSettingException("compare", parse.Errors[0].Message);
        var input = options.Input(parse);
        var request = input.ToRequest();
        return input.ResolveEngine(request.Model).Estimate(request);
    }

    private static void RenderComparison(TextWriter writer, IReadOnlyList<ComparisonRow> rows, Reports.MemoryReport estimate)
    {
        var console = Consoles.For(writer);
        var table = new Table().Border(TableBorder.Rounded).Title($"estimate ({Markup.Escape(estimate.Engine)}) vs measured")
            .AddColumn("GPU").AddColumn(new TableColumn("estimated").RightAligned()).AddColumn(new TableColumn("measured").RightAligned()).AddColumn(new TableColumn("error").RightAligned());
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Gpu), new ByteSize(r.EstimatedBytes).ToString(), new ByteSize(r.MeasuredBytes).ToString(),
                r.ErrorPct is { } e ? e.ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + " %" : "n/a");
        console.Write(table);
    }

    private static void Render(TextWriter writer, MemoryMeasurement m)
    {
        var console = Consoles.For(writer);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("peak held by the process tree", $"{new ByteSize(m.PeakProcessTreeBytes)} at {Seconds(m.PeakAt)}");
        for (int i = 0; i < m.GpuNames.Count; i++)
            table.AddRow(Markup.Escape($"  GPU {i} {m.GpuNames[i]}"), new ByteSize(m.PeakPerGpu[i]).ToString());
        table.AddRow("peak growth of device memory over baseline", new ByteSize(m.PeakDeviceGrowthBytes).ToString());
        table.AddRow("baseline used before start", new ByteSize(m.BaselineUsedBytesPerGpu.Sum()).ToString());
        table.AddRow("samples / duration", $"{m.Samples.Count} / {Seconds(m.Duration)}");
        table.AddRow("command", m.Cancelled ? "stopped (Ctrl-C)" : $"exit code {m.ExitCode}");
        console.Write(table);
        if (!m.PerProcessAccounting)
            console.WriteLine("The driver attributed no memory to the command's processes (containers hide pids from NVML); use the device growth figure.");

        var chart = new BarChart().Label("process tree memory (MiB) over time").Width(80);
        foreach (var s in m.Timeline(ChartPoints))
            chart.AddItem(Seconds(s.Elapsed), Math.Round(new ByteSize(s.ProcessTreeBytes).TotalMiB), Color.Green);
        console.Write(chart);
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static void WriteJson(TextWriter writer, MemoryMeasurement m, IReadOnlyList<ComparisonRow>? comparison)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("peakProcessTreeBytes", m.PeakProcessTreeBytes);
            json.WriteNumber("peakAtMs", (long)m.PeakAt.TotalMilliseconds);
            json.WriteNumber("peakDeviceGrowthBytes", m.PeakDeviceGrowthBytes);
            json.WriteBoolean("perProcessAccounting", m.PerProcessAccounting);
            json.WriteNumber("durationMs", (long)m.Duration.TotalMilliseconds);
            if (m.ExitCode is int code)
                json.WriteNumber("exitCode", code);
            else
                json.WriteNull("exitCode");
            json.WriteBoolean("cancelled", m.Cancelled);
            json.WriteStartArray("gpus");
            for (int i = 0; i < m.GpuNames.Count; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("index", i);
                json.WriteString("name", m.GpuNames[i]);
                json.WriteNumber("baselineUsedBytes", m.BaselineUsedBytesPerGpu[i]);
                json.WriteNumber("peakProcessTreeBytes", m.PeakPerGpu[i]);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("timeline");
            foreach (var s in m.Samples)
            {
                json.WriteStartObject();
                json.WriteNumber("elapsedMs", (long)s.Elapsed.TotalMilliseconds);
                json.WriteNumber("processTreeBytes", s.ProcessTreeBytes);
                json.WriteNumber("deviceUsedBytes", s.DeviceUsedBytes);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (comparison is not null)
            {
                json.WriteStartArray("comparison");
                foreach (var r in comparison)
                {
                    json.WriteStartObject();
                    json.WriteString("gpu", r.Gpu);
                    json.WriteNumber("estimatedBytes", r.EstimatedBytes);
                    json.WriteNumber("measuredBytes", r.MeasuredBytes);
                    if (r.ErrorPct is { } e)
                        json.WriteNumber("errorPct", e);
                    else
                        json.WriteNull("errorPct");
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        writer.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
