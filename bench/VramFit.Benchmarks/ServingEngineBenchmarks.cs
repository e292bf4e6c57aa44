using BenchmarkDotNet.Attributes;
using VramFit.Engines;
using VramFit.Engines.Serving;
using VramFit.Engines.Vllm;
using VramFit.Hardware;
using VramFit.Models;

namespace VramFit.Benchmarks;

/// <summary>
/// One vLLM estimate (Llama-3.1-8B, TP 2, H100) as the planner calls it: target ≤ 10 µs (issue 5). The caching
/// allocator's view of the weights is computed once per model and layout; <see cref="TorchWeightsFirstTime"/>
/// measures that first computation.
/// </summary>
[MemoryDiagnoser]
public class ServingEngineBenchmarks
{
    private readonly VllmEngine engine = new();
    private EstimateRequest request = null!;
    private ModelProfile profile = null!;

    [GlobalSetup]
    public void Setup()
    {
        var layer = new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Full, HeadCount = 32, KvHeadCount = 8, KeyHeadDim = 128, ValueHeadDim = 128, RotaryDims = 128, RotaryBase = 500_000 },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 14336 },
        };
        var model = new ModelDescription("llama", 4096, 128256, Enumerable.Repeat(layer, 32), maxContext: 131072, name: "meta-llama/Llama-3.1-8B");
        var gpu = new Accelerator { Id = "h100", Name = "NVIDIA H100 80GB HBM3", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 81152L << 20, MemoryBandwidthGBps = 3350, Interconnect = "NVLink 4", ComputeCapability = "9.0" };
        request = new EstimateRequest(model, new Deployment(gpu, 2), new Workload(),
            new EngineSettings([new("tensor_parallel_size", "2"), new("max_model_len", "32768")]));
        profile = ModelProfile.Create(model);
    }

    [Benchmark]
    public long VllmEstimate() => engine.Estimate(request).Capacity!.KvCacheTokens;

    [Benchmark]
    public long TorchWeightsFirstTime() => TorchWeights.For(profile, new ParallelLayout(2), ShardingRules.Vllm, 0, 2).AllocatedBytes;

    [Benchmark]
    public long TorchWeightsCached() => ServingProfiles.TorchWeights(ServingProfiles.Get(request.Model, Numerics.WeightFormat.DenseOf(Numerics.ScalarType.BF16)), new ParallelLayout(2), ShardingRules.Vllm, 0, 2).AllocatedBytes;
}
