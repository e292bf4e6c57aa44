using System.CommandLine;
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
        var run = new Argument<string[]>("command") { Description = "The command to run, after --", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("measure", "Run a command and measure the GPU memory its processes use (needs an NVIDIA driver)") { interval, json, run };
        command.SetAction(async (parse, cancellation) =>
        {
            var every = MemorySampler.ParseInterval(parse.GetValue(interval)!);
            using var probe = (probeFactory ?? (() => new NvmlGpuProbe()))();
            var measurement = await CommandMeasurement.RunAsync(parse.GetValue(run) ?? [], every, probe, processTree ?? new ProcfsProcessTree(), cancellation);
            if (parse.GetValue(json))
                WriteJson(context.Out, measurement);
            else
                Render(context.Out, measurement);
            return measurement.Cancelled ? 130 : measurement.ExitCode ?? 0;
        });
        return command;
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

    private static void WriteJson(TextWriter writer, MemoryMeasurement m)
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
            json.WriteEndObject();
        }

        writer.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
