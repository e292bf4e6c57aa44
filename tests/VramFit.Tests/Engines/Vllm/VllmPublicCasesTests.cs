using System.Globalization;
using VramFit.Engines.Vllm;
using Xunit.Abstractions;

namespace VramFit.Tests.Engines.Vllm;

/// <summary>
/// Scores the vLLM model on the 13 public vLLM cases (shared/validation/cases-public.jsonl) the way
/// <c>vramfit validate</c> does: per figure family, median and 95th-percentile absolute error.
/// </summary>
public class VllmPublicCasesTests(ITestOutputHelper output)
{
    private static readonly Lazy<List<(string Case, string Figure, double Observed, double Predicted)>> Scores = new(() =>
    {
        var engine = new VllmEngine();
        var rows = new List<(string, string, double, double)>();
        foreach (var c in ServingCase.Vllm)
        {
            var report = engine.Estimate(c.Request());
            foreach (var (name, observed) in c.Observed)
                rows.Add((c.Id, name, observed, report.PrintedFigures.TryGetValue(name, out var p) ? p : double.NaN));
        }

        return rows;
    });

    private static double ErrorPct(double observed, double predicted) => Math.Abs(predicted - observed) / observed * 100;

    private static (double Median, double P95) Summary(params string[] figures)
    {
        var errors = Scores.Value.Where(r => figures.Contains(r.Figure)).Select(r => ErrorPct(r.Observed, r.Predicted)).Order().ToArray();
        double At(double q) => errors[(int)Math.Min(errors.Length - 1, Math.Ceiling(q * errors.Length) - 1)];
        return (At(0.5), At(0.95));
    }

    [Fact]
    public void Every_observed_figure_is_predicted()
    {
        foreach (var r in Scores.Value)
        {
            Assert.False(double.IsNaN(r.Predicted), $"{r.Case}: {r.Figure} not predicted");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Case,-66} {r.Figure,-20} obs {r.Observed,12:0.####} pred {r.Predicted,12:0.####} err {(r.Predicted - r.Observed) / r.Observed * 100,7:0.0}%"));
        }
    }

    [Fact]
    public void Weights_per_GPU_median_within_one_percent()
    {
        var (median, _) = Summary("weights_gib");
        Assert.True(median <= 1.0, $"median {median:0.00}%");
    }

    [Fact]
    public void KV_capacity_figures_median_within_three_percent()
    {
        // available_kv_gib / kv_cache_gib, gpu_blocks, kv_tokens, max_concurrency across every case that prints them,
        // including the known misses (0.2.5's profiling regression, Qwen2.5-VL's undescribed vision tower)
        var (median, _) = Summary("available_kv_gib", "kv_cache_gib", "gpu_blocks", "kv_tokens", "max_concurrency");
        Assert.True(median <= 3.0, $"median {median:0.00}%");
    }

    [Theory]
    [InlineData("vllm-qwen2-7b-a100-80g-tp1-util025")]
    [InlineData("vllm-qwen2-7b-2xa100-80g-tp2-util025")]
    [InlineData("vllm-qwen2-7b-2xa100-80g-tp2-util050")]
    [InlineData("vllm-gptoss-120b-4xa100-80g-tp4-util080-ray")]
    [InlineData("vllm-unsloth-qwen3-8b-fp8-l4-v0102")]
    [InlineData("vllm-unsloth-llama-3-2-1b-instruct-fp8-block-l4-v0112")]
    [InlineData("vllm-llama3-8b-h100-tp1-pr10511")]
    [InlineData("vllm-codellama-13b-fp16-2x4090-tp2-v024")]
    public void Fully_described_V1_and_V0_cases_land_within_four_percent_on_the_KV_pool(string id)
    {
        foreach (var r in Scores.Value.Where(r => r.Case == id && r.Figure is "available_kv_gib" or "kv_cache_gib" or "gpu_blocks" or "kv_tokens" or "max_concurrency"))
            Assert.True(ErrorPct(r.Observed, r.Predicted) <= 4.0, $"{id} {r.Figure}: observed {r.Observed}, predicted {r.Predicted}");
    }

    [Fact]
    public void Summary_table()
    {
        foreach (var f in Scores.Value.Select(r => r.Figure).Distinct())
        {
            var (median, p95) = Summary(f);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{f,-20} n={Scores.Value.Count(r => r.Figure == f),2} median {median,6:0.0}% p95 {p95,7:0.0}%"));
        }

        Assert.NotEmpty(Scores.Value);
    }
}
