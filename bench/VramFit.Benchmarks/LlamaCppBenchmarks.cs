using BenchmarkDotNet.Attributes;
using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Benchmarks;

/// <summary>Targets (issue 4): one llama.cpp estimate ≤ 10 µs; auto-fit for a 70B model over 4 GPUs ≤ 50 ms.</summary>
[MemoryDiagnoser]
public class LlamaCppBenchmarks
{
    private readonly IEngineModel engine = EngineCatalog.Get("llama.cpp");
    private EstimateRequest qwenMoe = null!;
    private EstimateRequest llama70B = null!;
    private EstimateRequest llama70BCpu = null!;

    [GlobalSetup]
    public void Setup()
    {
        var gpu = AcceleratorCatalog.Find("rtx-4090");
        qwenMoe = new EstimateRequest(ModelCatalog.Find("Qwen/Qwen3-30B-A3B").Describe(), new Deployment(gpu, 2),
            new Workload { ContextTokens = 32768, WeightFormat = WeightFormat.Parse("q4_k") },
            new EngineSettings([new("flash_attn", "true")]));
        llama70B = new EstimateRequest(ModelCatalog.Find("meta-llama/Llama-3.1-70B").Describe(), new Deployment(gpu, 4),
            new Workload { ContextTokens = 8192, WeightFormat = WeightFormat.Parse("q4_k") }, EngineSettings.Empty);
        llama70BCpu = llama70B with { Settings = new EngineSettings([new("devices", "0")]) };
    }

    [Benchmark(Description = "llama.cpp: one estimate (Qwen3-30B-A3B Q4_K, 2 GPUs, 32k)")]
    public long Estimate() => engine.Estimate(qwenMoe).Devices.Length;

    [Benchmark(Description = "llama.cpp: one CPU-only estimate (Llama-3.1-70B, simulated reserve graph, cached)")]
    public long EstimateCpuOnly() => engine.Estimate(llama70BCpu).Devices.Length;

    [Benchmark(Description = "llama.cpp: build and allocate the 80-layer reserve graph once (a cache miss)")]
    public long SimulateReserveGraph() => new GgmlGraphAllocator(32)
        .Allocate(LlamaCppReserveGraph.Build(llama70B.Model, new LlamaCppReserveShape(512, 8192, 8192, true, false, false))).BufferBytes;

    [Benchmark(Description = "llama.cpp: auto-fit Llama-3.1-70B Q4_K over 4 × 24 GB")]
    public int AutoFit70B() => LlamaCppAutoFit.Fit(new LlamaCppFitRequest { Model = llama70B.Model, Deployment = llama70B.Deployment }).GetHashCode();
}
