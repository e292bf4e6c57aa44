using VramFit.Validation;

namespace VramFit.Tests.Validation;

/// <summary>
/// The vLLM runs harvested from public logs (data/validation/vllm-harvested.jsonl, beside the shared public cases)
/// scored as <c>vramfit validate</c> scores them: a guard that the rules keep generalizing beyond the cases they
/// were read against.
/// </summary>
public class HarvestedCasesTests
{
    private static readonly Lazy<ValidationReport> Report = new(() =>
        ValidationRunner.RunFiles([Path.Combine(AppContext.BaseDirectory, "Validation", "Cases", "vllm-harvested.jsonl")]));

    private static SummaryRow Row(string figure) => Report.Value.Summary.Single(r => r.Engine == "vllm" && r.Figure == figure);

    [Fact]
    public void Only_models_outside_the_catalog_are_skipped()
    {
        var skipped = Report.Value.Cases.Where(c => c.Status == CaseResult.Skipped).ToList();
        Assert.All(skipped, c => Assert.StartsWith("model not in catalog", c.Reason, StringComparison.Ordinal));
        Assert.True(skipped.Count <= 2, string.Join("; ", skipped.Select(c => $"{c.Id}: {c.Reason}")));
    }

    [Theory]
    [InlineData("weights_gib", 1.0)]
    [InlineData("kv_cache_gib", 3.0)]
    [InlineData("gpu_blocks", 3.0)]
    [InlineData("max_concurrency", 3.0)]
    public void Median_error_stays_within(string figure, double percent) =>
        Assert.True(Row(figure).MedianAbsErrorPct <= percent, $"{figure}: median {Row(figure).MedianAbsErrorPct:0.00}%");
}
