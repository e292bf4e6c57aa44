using BenchmarkDotNet.Attributes;
using VramFit.Engines;
using VramFit.Engines.Transformers;
using VramFit.Hardware;
using VramFit.Models;

namespace VramFit.Benchmarks;

/// <summary>
/// One full estimate (description → itemized report) and the allocation-free inner arithmetic the planner
/// calls. Targets (issue 2): ≤ 5 µs per estimate, zero allocations in the inner arithmetic.
/// </summary>
[MemoryDiagnoser]
public class EstimateBenchmarks
{
    private readonly TransformersEngine engine = new();
    private EstimateRequest request = null!;
    private ModelProfile profile = null!;
    private TransformersSettings settings;

    [GlobalSetup]
    public void Setup()
    {
        var model = ModelCatalog.Find("meta-llama/Llama-3.1-8B").Describe();
        var gpu = new Accelerator { Id = "bench", Name = "bench 80 GiB", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 80L << 30, MemoryBandwidthGBps = 3350 };
        request = new EstimateRequest(model, new Deployment(gpu), new Workload { ContextTokens = 8192, Batch = 4 }, EngineSettings.Empty);
        profile = ModelProfile.Create(model);
        settings = TransformersSettings.Resolve(request, Numerics.ScalarType.BF16);
    }

    [Benchmark(Description = "transformers: full itemized estimate")]
    public long FullEstimate() => engine.Estimate(request).Devices[0].TotalBytes;

    [Benchmark(Description = "transformers: inner arithmetic (one device)")]
    public long InnerArithmetic() => TransformersMemory.Device(profile, settings, 0, profile.LayerWeightBytes.Length, true, true).Total;
}
