using BenchmarkDotNet.Attributes;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Planning;

namespace VramFit.Benchmarks;

/// <summary>
/// Planner throughput. Targets (issue 6): ≥ 1,000,000 candidates screened per second on one core; a full plan
/// for a 405B model over 16 GPUs in two nodes well under a second.
/// </summary>
[MemoryDiagnoser]
public class PlannerBenchmarks
{
    private const int Candidates = 1024;
    private CandidateScreen[] screens = null!;
    private long[] contexts = null!;
    private int[] gpus = null!;
    private int[] kvBits = null!;
    private PlanRequest request405 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var model = ModelCatalog.Find("meta-llama/Llama-3.1-405B").Describe();
        string[] formats = ["bf16", "fp8", "w8a8", "gptq-int4", "awq", "nf4", "int8", "q4_k"];
        screens = formats.Select(f => new CandidateScreen(model, WeightFormat.Parse(f))).ToArray();
        var random = new Random(1);
        contexts = Enumerable.Range(0, Candidates).Select(_ => (long)random.Next(1024, 131072)).ToArray();
        gpus = Enumerable.Range(0, Candidates).Select(_ => 1 << random.Next(0, 5)).ToArray();
        kvBits = Enumerable.Range(0, Candidates).Select(_ => random.Next(2) == 0 ? 8 : 16).ToArray();
        request405 = new PlanRequest
        {
            Model = model,
            Gpu = AcceleratorCatalog.Find("h100-sxm"),
            GpusPerNode = 8,
            Nodes = 2,
            ContextTokens = 32768,
            Concurrency = 16,
        };
    }

    /// <summary>1024 candidates per invocation: divide the mean by 1024 for the time per candidate.</summary>
    [Benchmark(Description = "screen 1024 candidates", OperationsPerInvoke = Candidates)]
    public int Screen()
    {
        int rejected = 0;
        long usable = 76L << 30;
        for (int i = 0; i < Candidates; i++)
            if (screens[i & 7].CannotFit(contexts[i], 16, kvBits[i], gpus[i], usable))
                rejected++;
        return rejected;
    }

    [Benchmark(Description = "full plan: Llama-3.1-405B on 2 nodes × 8 H100")]
    public int FullPlan405B() => Planner.Plan(request405).Options.Count;
}
