using VramFit.Engines;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Planning;
using VramFit.Reports;

namespace VramFit.Tests.Planning;

public class PlannerTests
{
    private static readonly ModelDescription Llama70B = ModelCatalog.Find("meta-llama/Llama-3.1-70B").Describe();
    private static readonly ModelDescription Llama8B = ModelCatalog.Find("meta-llama/Llama-3.1-8B").Describe();

    [Fact]
    public void A_70B_model_on_two_24GB_cards_comes_out_with_4_bit_options_that_all_fit()
    {
        var result = Planner.Plan(new PlanRequest
        {
            Model = Llama70B, Gpu = AcceleratorCatalog.Find("rtx-4090"), GpusPerNode = 2, ContextTokens = 8192,
        });
        Assert.NotEmpty(result.Options);
        Assert.All(result.Options, o =>
        {
            Assert.True(o.Candidate.Format.Bits <= 5 || o.Candidate.GpuLayers is not null || o.Candidate.CpuMoeLayers > 0,
                $"{o.Candidate.Describe()} should need 4-bit weights or offload");
            // engines with a KV pool keep their own fraction free; the others keep the plan's 5 % margin
            double limit = o.Memory.Capacity is null ? 0.95 : 1.0;
            Assert.All(o.Memory.Accelerators, d => Assert.True(d.TotalBytes <= d.CapacityBytes * limit));
            Assert.True(o.TokensPerSecond > 0);
            Assert.False(string.IsNullOrEmpty(o.LaunchCommand));
        });
        Assert.Contains(result.Options, o => o.Pareto);
        Assert.DoesNotContain(result.Options, o => o.Candidate.Format.Kind == WeightFormatKind.Dense && o.Candidate.GpuLayers is null);
    }

    [Fact]
    public void Goals_order_the_options()
    {
        var request = new PlanRequest { Model = Llama8B, Gpu = AcceleratorCatalog.Find("h100-sxm"), GpusPerNode = 2, ContextTokens = 8192, Concurrency = 4 };
        var latency = Planner.Plan(request with { Goal = PlanGoal.Latency }).Options;
        var ranked = latency.Take(request.MaxOptions).Select(o => o.TpotSeconds).ToList();
        Assert.Equal(ranked.Order(), ranked); // the ranked part is by TPOT; Pareto extras may follow
        var fewest = Planner.Plan(request with { Goal = PlanGoal.FewestGpus }).Options;
        Assert.Equal(1, fewest[0].Candidate.GpusPerReplica);
        var quality = Planner.Plan(request with { Goal = PlanGoal.Quality }).Options;
        Assert.Equal(QualityRisk.None, quality[0].Risk);
        var throughput = Planner.Plan(request).Options;
        Assert.True(throughput[0].TokensPerSecond >= throughput[^1].TokensPerSecond);
    }

    [Fact]
    public void Pareto_options_are_not_dominated()
    {
        var options = Planner.Plan(new PlanRequest { Model = Llama8B, Gpu = AcceleratorCatalog.Find("l4"), GpusPerNode = 2, ContextTokens = 4096, MaxOptions = 200 }).Options;
        foreach (var p in options.Where(o => o.Pareto))
            Assert.DoesNotContain(options, o => o.TokensPerSecond > p.TokensPerSecond && o.TpotSeconds < p.TpotSeconds
                && o.Candidate.GpusPerReplica < p.Candidate.GpusPerReplica && o.Risk < p.Risk);
    }

    [Fact]
    public void Nothing_fits_says_why()
    {
        var result = Planner.Plan(new PlanRequest
        {
            Model = ModelCatalog.Find("meta-llama/Llama-3.1-405B").Describe(), Gpu = AcceleratorCatalog.Find("rtx-3060-12gb"),
            ContextTokens = 8192, HostMemoryBytes = 16L << 30, Engines = ["transformers"],
        });
        Assert.Empty(result.Options);
        Assert.NotEmpty(result.Rejections);
        Assert.Contains(result.Notes, n => n.StartsWith("nothing fits", StringComparison.Ordinal));
    }

    [Fact]
    public void The_screen_is_a_lower_bound_of_the_engine_estimate()
    {
        var format = WeightFormat.Parse("nf4");
        var screen = new CandidateScreen(Llama70B, format);
        var engine = EngineCatalog.Get("transformers");
        foreach (int gpus in new[] { 1, 2, 4 })
        {
            var report = engine.Estimate(new EstimateRequest(Llama70B, new Deployment(AcceleratorCatalog.Find("h100-sxm"), gpus),
                new Workload { ContextTokens = 16384, Batch = 2, WeightFormat = format }, EngineSettings.Empty));
            long fullest = report.Accelerators.Max(d => d.TotalBytes);
            Assert.True(screen.LowerBoundBytesPerGpu(16384, 2, 16, gpus) <= fullest);
        }
    }

    [Fact]
    public void Max_context_fits_and_one_more_token_does_not()
    {
        var engine = EngineCatalog.Get("transformers");
        var request = new EstimateRequest(Llama8B, new Deployment(AcceleratorCatalog.Find("rtx-4090")), new Workload { Batch = 1 }, EngineSettings.Empty);
        var answer = CapacitySearch.MaxContext(engine, request);
        Assert.InRange(answer.Value, 1000, 131071);
        long Peak(long ctx) => engine.Estimate(request with { Workload = request.Workload with { ContextTokens = ctx } }).Accelerators.Max(d => d.TotalBytes);
        long usable = (long)((24L << 30) * 0.95);
        Assert.True(Peak(answer.Value) <= usable);
        Assert.True(Peak(answer.Value + 1) > usable);
        var concurrency = CapacitySearch.MaxConcurrency(engine, request with { Workload = request.Workload with { ContextTokens = 4096 } });
        Assert.True(concurrency.Value >= 2);
    }

    [Theory]
    [InlineData("q8_0", QualityRisk.Negligible)]
    [InlineData("q4_k", QualityRisk.Low)]
    [InlineData("q2_k", QualityRisk.High)]
    [InlineData("bf16", QualityRisk.None)]
    [InlineData("fp8", QualityRisk.Negligible)]
    [InlineData("gptq-int4", QualityRisk.Low)]
    public void Quality_notes_rank_precisions(string format, QualityRisk risk) =>
        Assert.Equal(risk, QualityNotes.ForWeights(WeightFormat.Parse(format)).Risk);
}
