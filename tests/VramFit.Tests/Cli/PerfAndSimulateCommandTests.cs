using System.Text.Json;
using VramFit.Cli;

namespace VramFit.Tests.Cli;

public class PerfAndSimulateCommandTests
{
    // NVIDIA H100 SXM5 datasheet: 3,350 GB/s, 989.4 dense BF16 TFLOPS
    private static readonly string[] H100 = ["--gpu", "H100", "--bandwidth", "3350", "--tflops", "989.4", "--gpu-memory", "80"];

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Perf_prints_ttft_tpot_and_the_explained_terms()
    {
        var (code, output, _) = Run(["perf", "meta-llama/Llama-3.1-8B", .. H100, "--batch", "8", "--explain"]);
        Assert.Equal(0, code);
        Assert.Contains("TTFT", output);
        Assert.Contains("TPOT (batch 8)", output);
        Assert.Contains("bandwidth = 3350 GB/s", output);
    }

    [Fact]
    public void Perf_json_is_camel_case_with_seconds()
    {
        var (code, output, _) = Run(["perf", "meta-llama/Llama-3.1-8B", .. H100, "--json"]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        double tpot = doc.RootElement.GetProperty("tpotSeconds").GetDouble();
        Assert.InRange(tpot, 0.0055, 0.0065);
        Assert.Equal("memory", doc.RootElement.GetProperty("decode").GetProperty("bound").GetString());
    }

    [Fact]
    public void Simulate_compare_runs_three_policies_on_the_same_requests()
    {
        var (code, output, err) = Run(["simulate", "meta-llama/Llama-3.1-8B", .. H100, "--kv-tokens", "200k", "--rate", "8",
            "--requests", "300", "--compare", "--json"]);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var runs = doc.RootElement.GetProperty("runs");
        Assert.Equal(3, runs.GetArrayLength());
        Assert.Equal(["static", "dynamic", "continuous"], runs.EnumerateArray().Select(r => r.GetProperty("policy").GetString()));
        Assert.All(runs.EnumerateArray(), r => Assert.Equal(300, r.GetProperty("completed").GetInt32()));
    }

    [Fact]
    public void Simulate_writes_charts_and_a_sweep()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vramfit-sim-" + Guid.NewGuid().ToString("N"));
        try
        {
            var chart = Path.Combine(dir, "kv.svg");
            var (code, output, err) = Run(["simulate", "meta-llama/Llama-3.1-8B", .. H100, "--kv-tokens", "100k", "--rate", "4",
                "--requests", "200", "--sweep", "--slo-ttft", "1", "--chart", chart]);
            Assert.True(code == 0, err);
            Assert.Contains("Highest rate meeting the target", output);
            foreach (var name in new[] { "kv.svg", "kv.batch.svg", "kv.latency.svg", "kv.sweep.svg" })
                Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, name)), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--policy", "fifo")]
    [InlineData("--prompt-len", "lognormal:abc")]
    [InlineData("--preemption", "drop")]
    [InlineData("--chart", "out.pdf")]
    public void Bad_simulate_options_are_one_line_user_errors(string option, string value)
    {
        var (code, _, err) = Run(["simulate", "meta-llama/Llama-3.1-8B", .. H100, "--kv-tokens", "100k", "--requests", "10", option, value]);
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith("error: ", err);
    }

    [Fact]
    public void Missing_gpu_figures_and_pool_size_are_explained()
    {
        // a catalog GPU brings its own figures; a bare size has none, so the command asks for them
        Assert.Equal(0, Run("perf", "meta-llama/Llama-3.1-8B", "--gpu", "h100-sxm").Code);
        var (code, _, err) = Run("perf", "meta-llama/Llama-3.1-8B", "--gpu", "24GiB");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--bandwidth", err);
        // without --kv-tokens the pool comes from a serving engine; transformers has none
        (code, _, err) = Run(["simulate", "meta-llama/Llama-3.1-8B", .. H100, "--engine", "transformers"]);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--kv-tokens", err);
    }
}
