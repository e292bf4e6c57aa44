using VramFit.Validation;

namespace VramFit.Tests.Validation;

/// <summary>
/// The vLLM, SGLang and llama.cpp runs harvested from public logs (data/validation/*-harvested.jsonl, beside the shared public
/// cases) scored as <c>vramfit validate</c> scores them: a guard that the rules keep generalizing beyond the cases they
/// were read against.
/// </summary>
public class HarvestedCasesTests
{
    private static readonly Lazy<ValidationReport> Report = new(() => ValidationRunner.RunFiles(
        new[] { "vllm-harvested.jsonl", "sglang-harvested.jsonl", "llamacpp-harvested.jsonl" }.Select(f => Path.Combine(AppContext.BaseDirectory, "Validation", "Cases", f))));

    private static SummaryRow Row(string figure, string engine = "vllm") => Report.Value.Summary.Single(r => r.Engine == engine && r.Figure == figure);

    /// <summary>Skips are models or backends VramFit does not describe, each named (Nemotron's deci, Qwen3.5's hybrid, Ascend CANN).</summary>
    [Fact]
    public void Only_unknown_models_and_backends_are_skipped()
    {
        var skipped = Report.Value.Cases.Where(c => c.Status == CaseResult.Skipped).ToList();
        Assert.All(skipped, c => Assert.Matches("^(model not in catalog|unsupported architecture|backend: )", c.Reason!));
    }

    /// <summary>llama.cpp's KV figures are exact wherever the run is described (median over every cache and device).</summary>
    [Theory]
    [InlineData("llama.cpp")]
    [InlineData("ik_llama.cpp")]
    public void Llamacpp_kv_figures_median_is_exact(string engine) =>
        Assert.True(Row("k_mib", engine).MedianAbsErrorPct <= 0.5 && Row("kv_buffer_mib", engine).MedianAbsErrorPct <= 3.0,
            $"k_mib {Row("k_mib", engine).MedianAbsErrorPct:0.00}%, kv_buffer_mib {Row("kv_buffer_mib", engine).MedianAbsErrorPct:0.00}%");

    /// <summary>SGLang's pool: the median stays within 3 % although some runs name no GPU and one shared its card.</summary>
    [Fact]
    public void Sglang_pool_median_error_stays_within_three_percent() =>
        Assert.True(Row("max_total_num_tokens", "sglang").MedianAbsErrorPct <= 3.0, $"median {Row("max_total_num_tokens", "sglang").MedianAbsErrorPct:0.00}%");

    [Theory]
    [InlineData("weights_gib", 1.0)]
    [InlineData("kv_cache_gib", 3.0)]
    [InlineData("gpu_blocks", 3.0)]
    [InlineData("max_concurrency", 3.0)]
    public void Median_error_stays_within(string figure, double percent) =>
        Assert.True(Row(figure).MedianAbsErrorPct <= percent, $"{figure}: median {Row(figure).MedianAbsErrorPct:0.00}%");
}
