using VramFit.Validation;

namespace VramFit.Tests.Validation;

/// <summary>
/// The vLLM and SGLang runs harvested from public logs (data/validation/*-harvested.jsonl, beside the shared public
/// cases) scored as <c>vramfit validate</c> scores them: a guard that the rules keep generalizing beyond the cases they
/// were read against.
/// </summary>
public class HarvestedCasesTests
{
    private static readonly Lazy<ValidationReport> Report = new(() => ValidationRunner.RunFiles(
        new[] { "vllm-harvested.jsonl", "sglang-harvested.jsonl" }.Select(f => Path.Combine(AppContext.BaseDirectory, "Validation", "Cases", f))));

    private static SummaryRow Row(string figure, string engine = "vllm") => Report.Value.Summary.Single(r => r.Engine == engine && r.Figure == figure);

    [Fact]
    public void Only_models_outside_the_catalog_are_skipped()
    {
        var skipped = Report.Value.Cases.Where(c => c.Status == CaseResult.Skipped).ToList();
        Assert.All(skipped, c => Assert.StartsWith("model not in catalog", c.Reason, StringComparison.Ordinal));
    }

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
