using VramFit.Models;
using VramFit.Numerics;
using VramFit.Performance;
using VramFit.Simulation;

namespace VramFit.Tests.Performance;

/// <summary>
/// The roofline against published measurements. TensorRT-LLM 0.5.0 docs/source/performance.md ("H100 GPUs
/// (FP8)", static batching, TP 1): LLaMA-7B output tokens/s at batch 64 (32 for 2048/2048). Replayed as one
/// static batch of identical requests through the simulator, FP8 weights and KV on an H100 SXM. The band is
/// wide on purpose: the model has no kernel-level terms; docs/performance.md lists every row with its ratio.
/// </summary>
public class PublishedThroughputTests
{
    private static readonly ModelDescription Llama7B = new("llama", 4096, 32000,
        Enumerable.Range(0, 32).Select(_ => new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Full, HeadCount = 32, KvHeadCount = 32, KeyHeadDim = 128, ValueHeadDim = 128 },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 11008 },
        }), dtype: ScalarType.F16);

    [Theory]
    [InlineData(64, 128, 128, 9193)]
    [InlineData(64, 128, 2048, 5367)]
    [InlineData(64, 2048, 128, 2058)]
    [InlineData(32, 2048, 2048, 2230)]
    public void Llama_7B_fp8_static_batches_on_H100_land_near_TensorRT_LLM_0_5_figures(int batch, int input, int output, double published)
    {
        var perf = PerformanceModel.Create(ModelProfile.Create(Llama7B, WeightFormat.Parse("fp8")), TestAccelerators.H100Sxm, ScalarType.F8E4M3);
        var options = new SchedulerOptions { Policy = BatchingPolicy.Static, KvCacheTokens = 10_000_000, MaxNumSeqs = batch };
        var result = new ServingSimulator(perf, options).Run(new Workload
        {
            Arrivals = ArrivalKind.Trace,
            Trace = [.. Enumerable.Range(0, batch).Select(_ => new TraceRequest(0, input, output))],
        });
        Assert.InRange(result.OutputTokensPerSecond / published, 0.9, 1.6);
    }
}
