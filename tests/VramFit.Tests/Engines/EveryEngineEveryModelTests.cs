using VramFit.Engines;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;

namespace VramFit.Tests.Engines;

/// <summary>
/// Robustness across the catalogs: every built-in model on every engine gives either a report whose numbers are
/// sane or a VramFit error with a message — never another exception (which the CLI reports as a bug).
/// </summary>
public class EveryEngineEveryModelTests
{
    public static TheoryData<string> Engines => new(EngineCatalog.All.Select(e => e.Id));

    [Theory]
    [MemberData(nameof(Engines))]
    public void Every_catalog_model_estimates_or_fails_with_a_user_error(string engineId)
    {
        var engine = EngineCatalog.Get(engineId);
        var gpu = AcceleratorCatalog.Find("h100-sxm");
        var failures = new List<string>();
        foreach (var entry in ModelCatalog.All)
        {
            var model = entry.Describe();
            foreach (int gpus in new[] { 1, 8 })
            foreach (string? quant in new[] { null, "fp8", "awq", "nf4", "q4_k", "mxfp4" })
            {
                try
                {
                    var workload = new Workload { ContextTokens = 4096, WeightFormat = quant is null ? null : VramFit.Numerics.WeightFormat.Parse(quant, model.Dtype) };
                    var report = engine.Estimate(new EstimateRequest(model, new Deployment(gpu, gpus), workload, EngineSettings.Empty));
                    foreach (var d in report.Devices)
                        foreach (var item in d.Items)
                            if (item.Bytes < 0)
                                failures.Add($"{entry.Id} ×{gpus} {quant}: {d.Device} {item.Name} = {item.Bytes} B");
                    if (report.Accelerators.All(d => d.TotalBytes == 0))
                        failures.Add($"{entry.Id} ×{gpus} {quant}: no memory on any GPU");
                }
                catch (VramFitException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                }
                catch (Exception e)
                {
                    failures.Add($"{entry.Id} ×{gpus} {quant}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }
}
