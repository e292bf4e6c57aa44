using System.CommandLine;
using System.Text.Json;
using VramFit.Cli;
using VramFit.Cli.Commands;
using VramFit.Hardware;
using VramFit.Hardware.Detection;
using VramFit.Tests.Hardware.Detection;
using static VramFit.Tests.Hardware.Detection.FakeGpuProbe;

namespace VramFit.Tests.Cli;

public class GpusCommandTests
{
    private static (int Code, string Out, string Err) Run(Func<IGpuProbe>? probe, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr);
        var root = new RootCommand { GpusCommand.Create(context, probe), MeasureCommand.Create(context, probe) };
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Lists_the_catalog_as_json_with_sources_and_byte_sizes()
    {
        var (code, output, _) = Run(null, "gpus", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(AcceleratorCatalog.All.Count, doc.RootElement.GetArrayLength());
        var h100 = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == "h100-sxm");
        Assert.Equal(80L << 30, h100.GetProperty("memoryBytes").GetInt64());
        Assert.False(string.IsNullOrEmpty(h100.GetProperty("source").GetString()));
    }

    [Fact]
    public void Filters_by_vendor()
    {
        var (_, output, _) = Run(null, "gpus", "--vendor", "amd", "--json");
        using var doc = JsonDocument.Parse(output);
        Assert.All(doc.RootElement.EnumerateArray(), e => Assert.Equal("amd", e.GetProperty("vendor").GetString()));
        Assert.Contains("mi300x", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Human_table_names_every_entry()
    {
        var (code, output, _) = Run(null, "gpus");
        Assert.Equal(0, code);
        foreach (var a in AcceleratorCatalog.All)
            Assert.Contains(a.Id, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_lists_devices_from_the_probe()
    {
        var probe = new FakeGpuProbe(Snapshot(Gpu(0, "NVIDIA A100-SXM4-80GB", 81920, 2048, (31337, 2000))));
        var (code, output, _) = Run(() => probe, "gpus", "--detect", "--json");
        Assert.Equal(0, code);
        Assert.True(probe.Disposed);
        using var doc = JsonDocument.Parse(output);
        var gpu = doc.RootElement.GetProperty("gpus")[0];
        Assert.Equal("a100-sxm4-80gb", gpu.GetProperty("catalogId").GetString());
        Assert.Equal(79872L << 20, gpu.GetProperty("freeBytes").GetInt64());
        Assert.Equal(31337, gpu.GetProperty("processes")[0].GetProperty("pid").GetInt32());

        var human = Run(() => new FakeGpuProbe(Snapshot(Gpu(0, "NVIDIA A100-SXM4-80GB", 81920, 2048))), "gpus", "--detect");
        Assert.Contains("a100-sxm4-80gb", human.Out, StringComparison.Ordinal);
        Assert.Contains("78 GiB", human.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_without_a_driver_explains_and_exits_1()
    {
        var (code, output, _) = Run(() => Unavailable(), "gpus", "--detect");
        Assert.Equal(GpusCommand.NoneDetected, code);
        Assert.Contains("No GPU detected: no NVIDIA driver (libnvidia-ml.so.1 not found)", output, StringComparison.Ordinal);

        var json = Run(() => Unavailable(), "gpus", "--detect", "--json");
        using var doc = JsonDocument.Parse(json.Out);
        Assert.False(doc.RootElement.GetProperty("available").GetBoolean());
        Assert.Equal(0, doc.RootElement.GetProperty("gpus").GetArrayLength());
    }

    [Fact]
    public void The_registered_commands_answer_through_the_cli_boundary()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(CliApp.UserError, CliApp.Run(["gpus", "--vendor", "martian"], stdout, stderr));
        Assert.StartsWith("error: vendor:", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_without_a_driver_fails_with_one_line_and_runs_nothing()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"vramfit-cli-{Guid.NewGuid():N}");
        var e = Assert.ThrowsAny<VramFit.Errors.VramFitException>(() => Run(() => Unavailable(), "measure", "--", "touch", marker));
        Assert.Contains("needs an NVIDIA driver", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Measure_reports_json_with_the_command_exit_code()
    {
        if (OperatingSystem.IsWindows())
            return;
        var (code, output, _) = Run(() => new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 100))), "measure", "--interval", "20ms", "--json", "--", "sh", "-c", "exit 4");
        Assert.Equal(4, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(4, doc.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("Tesla T4", doc.RootElement.GetProperty("gpus")[0].GetProperty("name").GetString());
        Assert.True(doc.RootElement.GetProperty("timeline").GetArrayLength() >= 1);
    }

    [Fact]
    public void Measure_renders_a_human_report_with_a_timeline()
    {
        if (OperatingSystem.IsWindows())
            return;
        var (code, output, _) = Run(() => new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 100))), "measure", "--interval", "20ms", "--", "true");
        Assert.Equal(0, code);
        Assert.Contains("peak held by the process tree", output, StringComparison.Ordinal);
        Assert.Contains("GPU 0 Tesla T4", output, StringComparison.Ordinal);
        Assert.Contains("exit code 0", output, StringComparison.Ordinal);
        Assert.Contains("process tree memory (MiB) over time", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_rejects_a_bad_interval_before_running_anything()
    {
        var e = Assert.Throws<VramFit.Errors.InvalidSettingException>(() => Run(() => throw new InvalidOperationException("must not probe"), "measure", "--interval", "soon", "--", "true"));
        Assert.StartsWith("interval:", e.Message, StringComparison.Ordinal);
    }
}
