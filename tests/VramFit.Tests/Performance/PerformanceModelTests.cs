using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Performance;

namespace VramFit.Tests.Performance;

public class PerformanceModelTests
{
    private static readonly ModelDescription Llama8B = ModelCatalog.Find("meta-llama/Llama-3.1-8B").Describe();

    private static ModelDescription Mixtral(int experts = 8, int topK = 2) => new(
        "mixtral", 4096, 32000,
        Enumerable.Range(0, 32).Select(_ => new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Full, HeadCount = 32, KvHeadCount = 8, KeyHeadDim = 128, ValueHeadDim = 128 },
            Mlp = new MlpSpec { Kind = MlpKind.MoE, ExpertCount = experts, ActiveExpertCount = topK, ExpertFfnSize = 14336 },
        }));

    [Fact]
    public void Llama_8B_bf16_decode_on_H100_is_weights_over_effective_bandwidth()
    {
        var profile = ModelProfile.Create(Llama8B);
        var perf = PerformanceModel.Create(profile, TestAccelerators.H100Sxm);
        double tpot = perf.DecodeSeconds(1, 1);
        // 16.06 GB of bf16 weights (minus the embedding lookup) at 0.8 × 3,350 GB/s ≈ 5.8 ms
        double weightsOnly = (profile.TotalWeightBytes - profile.EmbeddingBytes) / (3350e9 * 0.8);
        Assert.InRange(tpot, weightsOnly, weightsOnly * 1.01);
        Assert.InRange(tpot, 0.0055, 0.0062);
        Assert.False(perf.Step(StepShape.Decode(1, 1)).IsComputeBound);
    }

    [Fact]
    public void Long_prefill_is_compute_bound_at_two_flops_per_active_parameter_plus_attention()
    {
        var perf = PerformanceModel.Create(ModelProfile.Create(Llama8B), TestAccelerators.H100Sxm);
        const int n = 4096;
        var t = perf.Step(StepShape.Prefill(n));
        Assert.True(t.IsComputeBound);
        // linear: 2 × (8.03 B − 0.525 B embedding) × 4096, head once; attention: 32 layers × 2 × 32 heads × 256 × n(n+1)/2
        double linear = 2.0 * (8_030_261_248L - 4096L * 128256 - 4096L * 128256) * n + 2.0 * 4096 * 128256;
        double attention = 32 * 2.0 * 32 * 256 * (n * (n + 1) / 2.0);
        Assert.Equal(linear + attention, t.Flops, 1e-6 * t.Flops);
        Assert.Equal((linear + attention) / (989.4e12 * 0.5), t.ComputeSeconds, 1e-9);
    }

    [Fact]
    public void Weight_only_4bit_runs_at_16_bit_compute_and_reads_about_a_quarter_of_the_bytes()
    {
        var awq = PerformanceModel.Create(ModelProfile.Create(Llama8B, WeightFormat.Parse("awq")), TestAccelerators.H100Sxm);
        var bf16 = PerformanceModel.Create(ModelProfile.Create(Llama8B), TestAccelerators.H100Sxm);
        Assert.Equal(ComputePrecision.Half, awq.Rate.Precision);
        Assert.Equal(989.4e12, awq.Rate.PeakFlops, 1);
        double ratio = awq.DecodeSeconds(1, 1) / bf16.DecodeSeconds(1, 1);
        // blocks shrink to ~4.25 bits, the 1.05 GB bf16 output head stays: ≈ 0.33 of the bf16 time
        Assert.InRange(ratio, 0.28, 0.40);
    }

    [Fact]
    public void Fp8_uses_fp8_tensor_cores_on_H100_and_falls_back_to_16_bit_on_A100()
    {
        var fp8 = ModelProfile.Create(Llama8B, WeightFormat.Parse("fp8"));
        Assert.Equal(ComputePrecision.Fp8, PerformanceModel.Create(fp8, TestAccelerators.H100Sxm).Rate.Precision);
        Assert.Equal(ComputePrecision.Half, PerformanceModel.Create(fp8, TestAccelerators.A100Sxm).Rate.Precision);
        var w8a8 = ModelProfile.Create(Llama8B, WeightFormat.Parse("w8a8"));
        Assert.Equal(624e12, PerformanceModel.Create(w8a8, TestAccelerators.A100Sxm).Rate.PeakFlops, 1);
    }

    [Theory]
    [InlineData(8, 2, 1, 2.0)]
    [InlineData(8, 2, 2, 3.5)]           // 8 × (1 − 0.75²)
    [InlineData(8, 2, 1000, 8.0)]
    [InlineData(256, 8, 0, 0.0)]
    public void Touched_experts_follow_the_uniform_routing_formula(int experts, int topK, double tokens, double expected) =>
        Assert.Equal(expected, PerformanceModel.TouchedExperts(experts, topK, tokens), 1e-9);

    [Fact]
    public void MoE_decode_reads_only_the_experts_the_batch_touches()
    {
        var profile = ModelProfile.Create(Mixtral());
        var perf = PerformanceModel.Create(profile, TestAccelerators.H100Sxm);
        double expertBytesPerLayer = profile.LayerRoutedExpertBytes[0];
        var one = perf.Step(StepShape.Decode(1, 1));
        var many = perf.Step(StepShape.Decode(512, 1));
        // one token reads 2 of 8 experts per layer; 512 tokens read all 8
        double expectedOne = perf.DenseWeightBytes + 32 * expertBytesPerLayer * 2 / 8;
        // the rest is KV (131,072 B) and activations (32 × (4·4096 + 2·2·14336) × 2 B = 4.72 MB)
        Assert.Equal(expectedOne + 131072 + 32 * (4 * 4096 + 2 * 2 * 14336) * 2, one.GpuBytes, 1);
        Assert.True(many.GpuBytes > perf.DenseWeightBytes + 32 * expertBytesPerLayer * 0.999);
        // active per layer: attention 4096 × (4096 + 1024 + 1024 + 4096), 2 norms, router 4096 × 8, 2 experts × 3 matrices;
        // plus final norm and output head (≈ 12.8 B: Mixtral's published 12.9 B active includes the embedding)
        double perLayer = 4096.0 * 10240 + 2 * 4096 + 4096 * 8 + 2.0 * 3 * 4096 * 14336;
        Assert.Equal(32 * perLayer + 4096 + 4096.0 * 32000, perf.ActiveParameters, 1);
    }

    [Fact]
    public void Tensor_parallel_halves_the_roofline_and_adds_two_ring_all_reduces_per_layer()
    {
        var profile = ModelProfile.Create(Llama8B);
        var one = PerformanceModel.Create(profile, TestAccelerators.H100Sxm);
        var two = PerformanceModel.Create(profile, TestAccelerators.H100Sxm, layout: new ParallelLayout { TensorParallel = 2 });
        var a = one.Step(StepShape.Decode(8, 1000));
        var b = two.Step(StepShape.Decode(8, 1000));
        Assert.Equal(a.MemorySeconds / 2, b.MemorySeconds, 1e-12);
        // 2 × 32 layers × (2·(2−1)/2 × 8 tokens × 4096 × 2 B / (450 GB/s × 0.8) + 10 µs)
        double expected = 64 * (1.0 * 8 * 4096 * 2 / (450e9 * 0.8) + 10e-6);
        Assert.Equal(expected, b.CommunicationSeconds, 1e-12);
    }

    [Fact]
    public void Pipeline_keeps_latency_and_gains_throughput_minus_the_bubble()
    {
        var profile = ModelProfile.Create(Llama8B);
        var pp = PerformanceModel.Create(profile, TestAccelerators.H100Sxm, layout: new ParallelLayout { PipelineParallel = 4 });
        Assert.Equal(16.0 / 7, pp.PipelineThroughputFactor, 1e-12);   // 4·4/(4+4−1)
        var single = PerformanceModel.Create(profile, TestAccelerators.H100Sxm);
        Assert.True(pp.DecodeSeconds(1, 1) > single.DecodeSeconds(1, 1));
    }

    [Fact]
    public void Offloaded_weights_streamed_over_pcie_cost_their_bytes_over_the_link()
    {
        var profile = ModelProfile.Create(Llama8B);
        var offload = new OffloadPlan { LayerFraction = 0.5, PcieGBps = 25 };
        var perf = PerformanceModel.Create(profile, TestAccelerators.H100Sxm, offload: offload);
        var t = perf.Step(StepShape.Decode(1, 1));
        Assert.Equal(0.5 * perf.DenseWeightBytes / 25e9, t.OffloadSeconds, 1e-12);
        var cpu = PerformanceModel.Create(profile, TestAccelerators.H100Sxm,
            offload: offload with { Mode = OffloadMode.ComputeOnCpu, HostMemoryGBps = 80 });
        Assert.Equal(0.5 * perf.DenseWeightBytes / 80e9, cpu.Step(StepShape.Decode(1, 1)).OffloadSeconds, 1e-9);
    }

    [Fact]
    public void Kv_cache_traffic_grows_with_context_and_fp8_kv_halves_it()
    {
        var profile = ModelProfile.Create(Llama8B);
        var bf16 = PerformanceModel.Create(profile, TestAccelerators.H100Sxm);
        var fp8 = PerformanceModel.Create(profile, TestAccelerators.H100Sxm, ScalarType.F8E4M3);
        Assert.Equal(131072, bf16.KvBytesPerToken);               // 2 × 32 layers × 8 × 128 × 2 B
        Assert.Equal(65536, fp8.KvBytesPerToken);
        Assert.True(bf16.DecodeSeconds(64, 32000) > bf16.DecodeSeconds(64, 1000));
    }

    [Fact]
    public void Estimate_explains_ttft_and_tpot()
    {
        var perf = PerformanceModel.Create(ModelProfile.Create(Llama8B), TestAccelerators.H100Sxm);
        var e = perf.Estimate(1000, 200, 16);
        Assert.Equal(e.Prefill.Time.TotalSeconds, e.TtftSeconds);
        Assert.Equal(e.TtftSeconds + 199 * e.TpotSeconds, e.EndToEndSeconds, 1e-12);
        Assert.Equal(16 / e.TpotSeconds, e.DecodeTokensPerSecond, 1e-6);
        Assert.Contains(e.Decode.Items, i => i.Name == "memory" && i.Inputs.Any(x => x.Name == "bandwidth" && x.Value == 3350));
        Assert.Equal("compute", e.Prefill.Bound);
    }

    [Fact]
    public void Step_does_not_allocate()
    {
        var perf = PerformanceModel.Create(ModelProfile.Create(Mixtral()), TestAccelerators.H100Sxm,
            layout: new ParallelLayout { TensorParallel = 2 });
        var shape = new StepShape(2, 300, 5000, 40, 40000);
        double sink = 0;
        for (int i = 0; i < 100_000; i++)
            sink += perf.Step(shape).TotalSeconds;   // past tiered JIT and OSR, which allocate on their own
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
            sink += perf.Step(shape).TotalSeconds;
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.True(sink > 0);
    }

    [Fact]
    public void Bad_settings_are_user_errors()
    {
        var profile = ModelProfile.Create(Llama8B);
        Assert.Throws<InvalidSettingException>(() => PerformanceModel.Create(profile, TestAccelerators.H100Sxm,
            efficiency: new EfficiencyFactors { BandwidthEfficiency = 1.5 }));
        Assert.Throws<InvalidSettingException>(() => PerformanceModel.Create(profile, TestAccelerators.H100Sxm,
            layout: new ParallelLayout { TensorParallel = 0 }));
        Assert.Throws<InvalidSettingException>(() => PerformanceModel.Create(profile,
            TestAccelerators.H100Sxm with { InterconnectGBps = 0 }, layout: new ParallelLayout { TensorParallel = 2 }));
        var perf = PerformanceModel.Create(profile, TestAccelerators.H100Sxm);
        Assert.Throws<InvalidSettingException>(() => perf.Estimate(0, 10, 1));
    }

    [Fact]
    public void With_reprices_the_same_model_exactly_as_building_it_anew()
    {
        var profile = ModelProfile.Create(Mixtral());
        var layout = new ParallelLayout { TensorParallel = 4 };
        var built = PerformanceModel.Create(profile, TestAccelerators.A100Sxm, ScalarType.F8E4M3, layout);
        var derived = PerformanceModel.Create(profile, TestAccelerators.H100Sxm).With(TestAccelerators.A100Sxm, ScalarType.F8E4M3, layout);
        var shape = new StepShape(3, 700, 90_000, 100, 250_000);
        Assert.Equal(built.Step(shape), derived.Step(shape));
        Assert.Equal(built.KvBytesPerToken, derived.KvBytesPerToken);
    }

    [Fact]
    public void Sliding_window_layers_stop_reading_kv_past_the_window_and_mla_reads_its_latent()
    {
        var swa = new ModelDescription("mistral", 4096, 32000, Enumerable.Range(0, 8).Select(_ => new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.SlidingWindow, SlidingWindow = 1024, HeadCount = 32, KvHeadCount = 8, KeyHeadDim = 128, ValueHeadDim = 128 },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 14336 },
        }));
        var perf = PerformanceModel.Create(ModelProfile.Create(swa), TestAccelerators.H100Sxm);
        Assert.Equal(perf.Step(StepShape.Decode(4, 1024)).GpuBytes, perf.Step(StepShape.Decode(4, 100_000)).GpuBytes);
        Assert.True(perf.Step(StepShape.Decode(4, 512)).GpuBytes < perf.Step(StepShape.Decode(4, 1024)).GpuBytes);

        // DeepSeek-V3 attention shape: the cache holds kv_lora_rank + rope = 576 elements per token and layer
        var mla = new ModelDescription("deepseek_v3", 7168, 129280, Enumerable.Range(0, 4).Select(_ => new LayerSpec
        {
            Attention = new AttentionSpec
            {
                Kind = AttentionKind.Mla, HeadCount = 128,
                Mla = new MlaSpec { QLoraRank = 1536, KvLoraRank = 512, QkNopHeadDim = 128, QkRopeHeadDim = 64, VHeadDim = 128 },
            },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 18432 },
        }));
        Assert.Equal(4 * 576 * 2, PerformanceModel.Create(ModelProfile.Create(mla), TestAccelerators.H100Sxm).KvBytesPerToken);
    }
}
