using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using VramFit.Hardware;
using VramFit.Hardware.Detection;
using VramFit.Units;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit gpus [--vendor V] [--detect] [--json]</c>: the accelerator catalog, or this machine's GPUs.</summary>
internal static class GpusCommand
{
    /// <summary>Exit code of <c>--detect</c> when no GPU is visible (an answer, not an error).</summary>
    public const int NoneDetected = 1;

    public static Command Create(CliContext context, Func<IGpuProbe>? probeFactory = null)
    {
        var vendor = new Option<string?>("--vendor") { Description = "Only this vendor: nvidia, amd, apple, intel" };
        var detect = new Option<bool>("--detect") { Description = "List this machine's GPUs (NVML) instead of the catalog" };
        var json = new Option<bool>("--json") { Description = "Print JSON (sizes in bytes)" };
        var command = new Command("gpus", "List the built-in accelerator catalog, or detect this machine's GPUs") { vendor, detect, json };
        command.SetAction(parse =>
        {
            if (parse.GetValue(detect))
            {
                using var probe = (probeFactory ?? (() => new SystemGpuProbe()))();
                var detection = GpuDetector.Detect(probe);
                if (parse.GetValue(json))
                    WriteDetectionJson(context.Out, detection);
                else
                    RenderDetection(context.Out, detection);
                return detection.Found ? 0 : NoneDetected;
            }

            var list = parse.GetValue(vendor) is { } v ? AcceleratorCatalog.ByVendor(AcceleratorCatalog.ParseVendor(v)) : AcceleratorCatalog.All;
            if (parse.GetValue(json))
                WriteCatalogJson(context.Out, list);
            else
                RenderCatalog(context.Out, list);
            return 0;
        });
        return command;
    }

    private static void RenderCatalog(TextWriter writer, IReadOnlyList<Accelerator> list)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "id", "name", "memory", "GB/s", "FP16", "BF16", "FP8", "INT8", "FP4", "interconnect" })
            table.AddColumn(column is "id" or "name" or "interconnect" ? new TableColumn(column) : new TableColumn(column).RightAligned());
        foreach (var a in list)
            table.AddRow(
                Markup.Escape(a.Id), Markup.Escape(a.Name), Markup.Escape(Memory(a)), Rate(a.MemoryBandwidthGBps),
                Rate(a.Fp16Tflops), Rate(a.Bf16Tflops), Rate(a.Fp8Tflops), Rate(a.Int8Tops), Rate(a.Fp4Tflops),
                Markup.Escape(a.Interconnect is null ? "" : $"{a.Interconnect} {Rate(a.InterconnectGBps)} GB/s"));
        var console = Consoles.For(writer);
        console.Write(table);
        console.WriteLine($"{list.Count} accelerators; dense TFLOPS/TOPS, '-' = not supported or not published. Sources: vramfit gpus --json");
    }

    private static string Memory(Accelerator a) =>
        a.GpuWorkingSetBytes is long ws ? $"{new ByteSize(a.MemoryBytes)} ({new ByteSize(ws)} GPU)" : new ByteSize(a.MemoryBytes).ToString();

    private static string Rate(double value) => value > 0 ? value.ToString("0.#", CultureInfo.InvariantCulture) : "-";

    private static void RenderDetection(TextWriter writer, GpuDetection detection)
    {
        var console = Consoles.For(writer);
        if (!detection.Found)
        {
            console.WriteLine($"No GPU detected: {detection.Explanation}.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "#", "name", "catalog", "total", "used", "free", "processes", "cc", "host link" })
            table.AddColumn(column);
        foreach (var g in detection.Gpus)
            table.AddRow(
                g.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(g.Name), Markup.Escape(g.CatalogMatch?.Id ?? "(not in catalog)"),
                new ByteSize(g.TotalBytes).ToString(), new ByteSize(g.UsedBytes).ToString(), new ByteSize(g.FreeBytes).ToString(),
                Markup.Escape(string.Join(", ", g.Processes.Select(p => $"{p.Pid}: {(p.UsedBytes is long b ? new ByteSize(b).ToString() : "n/a")}"))),
                Markup.Escape(g.ComputeCapability ?? "-"), Markup.Escape(g.PcieLink?.Name ?? "-"));
        console.Write(table);
        console.WriteLine($"{detection.Probe.Backend}, driver {detection.Probe.DriverVersion ?? "unknown"}: {detection.Gpus.Count} GPU(s).");
    }

    private static void WriteCatalogJson(TextWriter writer, IReadOnlyList<Accelerator> list)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var a in list)
                WriteAccelerator(json, a);
            json.WriteEndArray();
        }

        writer.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    internal static void WriteAccelerator(Utf8JsonWriter json, Accelerator a)
    {
        json.WriteStartObject();
        json.WriteString("id", a.Id);
        json.WriteString("name", a.Name);
        json.WriteString("vendor", a.Vendor.ToString().ToLowerInvariant());
        json.WriteNumber("memoryBytes", a.MemoryBytes);
        if (a.GpuWorkingSetBytes is long ws)
            json.WriteNumber("gpuWorkingSetBytes", ws);
        json.WriteNumber("memoryBandwidthGBps", a.MemoryBandwidthGBps);
        json.WriteNumber("fp16Tflops", a.Fp16Tflops);
        json.WriteNumber("bf16Tflops", a.Bf16Tflops);
        json.WriteNumber("fp8Tflops", a.Fp8Tflops);
        json.WriteNumber("int8Tops", a.Int8Tops);
        json.WriteNumber("fp4Tflops", a.Fp4Tflops);
        json.WriteString("interconnect", a.Interconnect);
        json.WriteNumber("interconnectGBps", a.InterconnectGBps);
        json.WriteString("computeCapability", a.ComputeCapability);
        json.WriteBoolean("unifiedMemory", a.UnifiedMemory);
        json.WriteStartArray("aliases");
        foreach (var alias in a.Aliases)
            json.WriteStringValue(alias);
        json.WriteEndArray();
        json.WriteString("note", a.Note);
        json.WriteString("source", a.Source);
        json.WriteEndObject();
    }

    private static void WriteDetectionJson(TextWriter writer, GpuDetection detection)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("backend", detection.Probe.Backend);
            json.WriteBoolean("available", detection.Probe.Available);
            json.WriteString("problem", detection.Probe.Problem);
            json.WriteString("explanation", detection.Explanation);
            json.WriteString("driverVersion", detection.Probe.DriverVersion);
            json.WriteStartArray("gpus");
            foreach (var g in detection.Gpus)
            {
                json.WriteStartObject();
                json.WriteNumber("index", g.Index);
                json.WriteString("name", g.Name);
                json.WriteNumber("totalBytes", g.TotalBytes);
                json.WriteNumber("usedBytes", g.UsedBytes);
                json.WriteNumber("freeBytes", g.FreeBytes);
                json.WriteString("computeCapability", g.ComputeCapability);
                json.WriteString("pcieLink", g.PcieLink?.Name);
                json.WriteString("catalogId", g.CatalogMatch?.Id);
                json.WriteStartArray("processes");
                foreach (var p in g.Processes)
                {
                    json.WriteStartObject();
                    json.WriteNumber("pid", p.Pid);
                    if (p.UsedBytes is long b)
                        json.WriteNumber("usedBytes", b);
                    else
                        json.WriteNull("usedBytes");
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        writer.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
