using System.Globalization;
using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Hardware;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufMetadataFixtures;

namespace VramFit.Tests.Engines.LlamaCpp;

public class LlamaCppAutoFitTests
{
    private static Deployment Gpus(int gib, int count = 1) => new(new Accelerator
    {
        Id = $"gpu-{gib}", Name = $"{gib} GiB GPU", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = (long)gib << 30, MemoryBandwidthGBps = 1000,
    }, count);

    private static LlamaCppFit Fit(GgufMetadata meta, Deployment d, long? maxContext = null) => LlamaCppAutoFit.Fit(new LlamaCppFitRequest
    {
        Model = GgufModelTranslator.Translate(meta),
        Deployment = d,
        Settings = new EngineSettings([new("flash_attn", "true")]),
        MaxContext = maxContext,
    });

    [Fact]
    public void A_model_that_fits_gets_the_largest_context_within_the_margin()
    {
        var fit = Fit(Qwen3_30B_A3B(), Gpus(24));
        Assert.True(fit.Fits);
        Assert.Equal((49, 0), (fit.GpuLayers, fit.CpuMoeLayers));
        Assert.InRange(fit.ContextTokens, 4096, 40960);
        long margin = 1024L << 20;
        Assert.All(fit.Report.Accelerators, d => Assert.True(d.TotalBytes <= (24L << 30) - margin));
        if (fit.ContextTokens < 40960)
        {
            // one more step of context would break the margin
            var bigger = new LlamaCppEngine().Estimate(new EstimateRequest(GgufModelTranslator.Translate(Qwen3_30B_A3B()), Gpus(24), new Workload(),
                fit.Settings.With("ctx_size", (fit.ContextTokens + 256).ToString(CultureInfo.InvariantCulture))));
            Assert.Contains(bigger.Accelerators, d => d.TotalBytes > (24L << 30) - margin);
        }
    }

    [Fact]
    public void The_context_never_exceeds_the_training_context()
    {
        var fit = Fit(Qwen3_30B_A3B(), Gpus(80));
        Assert.Equal(40960, fit.ContextTokens);
        Assert.Contains("-c 40960", fit.LaunchCommand, StringComparison.Ordinal);
    }

    [Fact]
    public void A_moe_model_too_big_for_the_gpu_moves_experts_first()
    {
        var fit = Fit(Qwen3_30B_A3B(), Gpus(12));
        Assert.True(fit.Fits);
        Assert.Equal(49, fit.GpuLayers);
        Assert.InRange(fit.CpuMoeLayers, 1, 47);
        Assert.Contains($"--n-cpu-moe {fit.CpuMoeLayers}", fit.LaunchCommand, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dense_model_too_big_for_the_gpu_keeps_fewer_layers()
    {
        var fit = Fit(Llama2_13B(), Gpus(8));
        Assert.True(fit.Fits);
        Assert.InRange(fit.GpuLayers, 1, 40);
        Assert.Equal(0, fit.CpuMoeLayers);
    }

    [Fact]
    public void More_gpus_hold_more()
    {
        var one = Fit(Glm4_32B(), Gpus(16));
        var two = Fit(Glm4_32B(), Gpus(16, 2));
        Assert.True(two.GpuLayers > one.GpuLayers || two.ContextTokens > one.ContextTokens);
    }
}
