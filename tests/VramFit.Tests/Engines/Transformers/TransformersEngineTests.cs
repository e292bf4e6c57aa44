using FsCheck;
using FsCheck.Fluent;
using VramFit.Engines;
using VramFit.Engines.Transformers;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Tests.Engines.Transformers;

public class TransformersEngineTests
{
    private static readonly ModelDescription Llama8B = ModelCatalog.Find("meta-llama/Llama-3.1-8B").Describe();

    private static readonly Accelerator Gpu24 = new()
    {
        Id = "test-24g", Name = "test 24 GiB", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 24L << 30, MemoryBandwidthGBps = 1008,
    };

    private static MemoryReport Estimate(Workload workload, int gpus = 1, params (string, string)[] settings) =>
        new TransformersEngine().Estimate(new EstimateRequest(
            Llama8B, new Deployment(Gpu24, gpus), workload, new EngineSettings(settings.Select(s => KeyValuePair.Create(s.Item1, s.Item2)))));

    [Fact]
    public void Llama_3_1_8B_bf16_weights_are_the_checkpoint_bytes_and_the_kv_cache_is_exact()
    {
        var report = Estimate(new Workload { ContextTokens = 8192 });
        var gpu = report.Devices.Single();
        Assert.Equal(16_060_522_496, gpu.BytesOf(MemoryCategory.Weights)); // model.safetensors.index.json total_size
        // 32 layers × 8 kv heads × (128 + 128) × 8192 tokens × 2 B = 1 GiB
        Assert.Equal(1L << 30, gpu.BytesOf(MemoryCategory.KvCache));
        Assert.Equal(TransformersMemory.CudaContextBytes, gpu.BytesOf(MemoryCategory.Overhead));
        Assert.True(report.Fits);
    }

    [Fact]
    public void Sdpa_prefill_peak_is_the_residual_stream_plus_the_gated_mlp_intermediates()
    {
        var gpu = Estimate(new Workload { ContextTokens = 8192 }).Devices.Single();
        long tokens = 8192, hidden = 4096, ffn = 14336;
        long residual = 2 * tokens * hidden * 2;
        long mlp = 3 * tokens * ffn * 2;
        long growth = 8192L * 8 * 128 * 2; // one layer's K at full length
        Assert.Equal(residual + mlp + growth, gpu.BytesOf(MemoryCategory.Activations));
    }

    [Fact]
    public void Eager_attention_materializes_the_score_matrix_in_three_dtypes()
    {
        var sdpa = Estimate(new Workload { ContextTokens = 4096, Attention = "sdpa" }).Devices.Single().BytesOf(MemoryCategory.Activations);
        var eager = Estimate(new Workload { ContextTokens = 4096, Attention = "eager" }).Devices.Single().BytesOf(MemoryCategory.Activations);
        long scores = 32L * 4096 * 4096 * (2 + 4 + 2);   // QKᵀ bf16, softmax f32, cast back to bf16
        long mask = 4096L * 4096 * 2;                     // [1, 1, q, kv] bf16 causal mask
        long residual = 2L * 4096 * 4096 * 2;
        Assert.True(eager >= residual + mask + scores, $"eager {eager} < residual + mask + scores");
        Assert.True(eager < residual + mask + scores * 5 / 4);
        Assert.True(sdpa < scores / 8);
    }

    [Fact]
    public void Forward_logits_cover_every_position_generate_only_the_last()
    {
        var generate = Estimate(new Workload { ContextTokens = 2048, Batch = 4 }, 1, ("logits", "generate")).Devices.Single();
        var forward = Estimate(new Workload { ContextTokens = 2048, Batch = 4 }, 1, ("logits", "forward")).Devices.Single();
        long all = 4L * 2048 * 128256 * (2 + 4);
        Assert.True(forward.BytesOf(MemoryCategory.Activations) >= all);
        Assert.True(generate.BytesOf(MemoryCategory.Activations) < all / 4);
    }

    [Fact]
    public void Device_map_auto_splits_weights_and_cache_without_losing_any()
    {
        var one = Estimate(new Workload { ContextTokens = 8192 }).Devices.Single();
        var four = Estimate(new Workload { ContextTokens = 8192 }, 4).Devices;
        Assert.Equal(4, four.Length);
        Assert.Equal(one.BytesOf(MemoryCategory.Weights), four.Sum(d => d.BytesOf(MemoryCategory.Weights)));
        Assert.Equal(one.BytesOf(MemoryCategory.KvCache), four.Sum(d => d.BytesOf(MemoryCategory.KvCache)));
        Assert.All(four, d => Assert.True(d.BytesOf(MemoryCategory.Weights) < one.BytesOf(MemoryCategory.Weights) / 2));
    }

    [Fact]
    public void Quantized_cache_keeps_128_tokens_in_bf16_and_packs_the_rest_with_group_scales()
    {
        long perToken = 8 * 256;
        long bytes = TransformersMemory.CacheBytes(perToken, 1128, 4, 2);
        long quantized = perToken * 1000;
        Assert.Equal(quantized / 2 + quantized / 64 * 4 + perToken * 128 * 2, bytes);
    }

    [Fact]
    public void Nf4_weights_are_about_a_quarter_of_bf16_and_add_a_dequantization_scratch()
    {
        var bf16 = Estimate(new Workload { ContextTokens = 1024 }).Devices.Single();
        var nf4 = Estimate(new Workload { ContextTokens = 1024, WeightFormat = WeightFormat.Parse("nf4") }).Devices.Single();
        double ratio = nf4.BytesOf(MemoryCategory.Weights) / (double)bf16.BytesOf(MemoryCategory.Weights);
        // 6.98 B block parameters at 4 bits + fp32 absmax per 64 (0.5625 B), 1.05 B embedding/head parameters stay bf16
        Assert.InRange(ratio, 0.37, 0.38);
        Assert.Contains(nf4.Items.Single(i => i.Category == MemoryCategory.Activations).Children, c => c.Name.Contains("bitsandbytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_settings_and_values_are_rejected_by_name()
    {
        var e = Assert.Throws<InvalidSettingException>(() => Estimate(new Workload(), 1, ("gpu_memory_utilization", "0.9")));
        Assert.Contains("gpu_memory_utilization", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidSettingException>(() => Estimate(new Workload { Attention = "paged" }));
        Assert.Throws<InvalidSettingException>(() => Estimate(new Workload { KvCacheType = "fp8" }));
        Assert.Throws<InvalidSettingException>(() => Estimate(new Workload { ContextTokens = 100 }, 1, ("prompt_tokens", "200")));
    }

    [Fact]
    public void Memory_grows_monotonically_with_context_and_batch() =>
        Prop.ForAll(Gen.Choose(1, 64 * 1024).ToArbitrary(), Gen.Choose(1, 16).ToArbitrary(), (ctx, batch) =>
        {
            long Total(int c, int b) => Estimate(new Workload { ContextTokens = c, Batch = b }).Devices.Single().TotalBytes;
            return Total(ctx, batch) <= Total(ctx + 1, batch) && Total(ctx, batch) <= Total(ctx, batch + 1);
        }).QuickCheckThrowOnFailure();
}
