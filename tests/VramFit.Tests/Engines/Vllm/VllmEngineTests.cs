using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VramFit.Engines;
using VramFit.Engines.Vllm;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.Vllm;

public class VllmEngineTests
{
    private static readonly VllmEngine Engine = new();

    private static EstimateRequest Request(int gpus, params (string, string)[] settings) => new(
        ServingFixtures.Llama31_8B(), new Deployment(ServingFixtures.H100, gpus), new Workload(),
        new EngineSettings(settings.Select(s => new KeyValuePair<string, string>(s.Item1, s.Item2))));

    [Fact]
    public void Is_registered_under_its_id()
    {
        Assert.IsType<VllmEngine>(EngineCatalog.Get("vllm"));
        Assert.Equal("sglang", EngineCatalog.Get("sglang").Id);
        Assert.Equal("tensorrt-llm", EngineCatalog.Get("trtllm").Id);
        Assert.Equal("tgi", EngineCatalog.Get("tgi").Id);
    }

    [Fact]
    public void Budget_identity_holds_per_rank()
    {
        // V1 0.10: available = total × util − weights − activation peak − non-torch, then paged
        var r = Engine.Estimate(Request(1, ("engine_version", "0.10.1"), ("max_model_len", "8192")));
        var f = r.PrintedFigures;
        double total = ServingFixtures.H100.MemoryBytes / (double)(1L << 30);
        Assert.Equal(total * 0.9 - f["weights_gib"] - f["activation_peak_gib"] - f["non_torch_gib"], f["available_kv_gib"], 1);
        Assert.Equal(f["kv_tokens"] / 8192, f["max_concurrency"], 2);
        Assert.Equal(r.Capacity!.GpuBlocks * 16, r.Capacity.KvCacheTokens);
        Assert.Equal(r.Capacity.GpuBlocks * 32 * 65536L, r.Capacity.KvCacheBytes);
    }

    [Fact]
    public void H100_defaults_profile_1024_sequences_and_8192_tokens()
    {
        var r = Engine.Estimate(Request(1, ("max_model_len", "8192")));
        var act = r.Devices[0].Items.Single(i => i.Name.StartsWith("activation", StringComparison.Ordinal));
        Assert.Contains(act.Inputs, i => i.Name == "max_num_batched_tokens" && i.Value == 8192);
        Assert.Contains(act.Inputs, i => i.Name == "sampled requests" && i.Value == 1024);
    }

    [Theory]
    [InlineData("server", 8192)]
    [InlineData("llm", 16384)]
    public void Offline_LLM_class_profiles_more_tokens(string context, double tokens)
    {
        var r = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("usage_context", context)));
        var act = r.Devices[0].Items.Single(i => i.Name.StartsWith("activation", StringComparison.Ordinal));
        Assert.Contains(act.Inputs, i => i.Name == "max_num_batched_tokens" && i.Value == tokens);
    }

    [Fact]
    public void Too_long_max_model_len_reports_the_error_and_the_suggested_length()
    {
        var r = Engine.Estimate(Request(1, ("max_model_len", "131072"), ("gpu_memory_utilization", "0.3")));
        Assert.NotNull(r.Capacity!.EngineError);
        Assert.Contains("estimated maximum model length is", r.Capacity.EngineError);
        Assert.True(r.Capacity.MaxModelLen < 131072 && r.Capacity.MaxModelLen > 0);
        Assert.Contains(r.Capacity.EngineError, r.Notes);
    }

    [Fact]
    public void Launch_command_carries_the_parallel_layout()
    {
        var r = Engine.Estimate(Request(2, ("tensor_parallel_size", "2"), ("max_model_len", "32768"), ("kv_cache_dtype", "fp8")));
        Assert.Equal("vllm serve meta-llama/Llama-3.1-8B --tensor-parallel-size 2 --gpu-memory-utilization 0.9 --max-model-len 32768 --kv-cache-dtype fp8", r.LaunchCommand);
        Assert.Equal(2, r.Devices[0].Device.Split('-').Length);
    }

    [Fact]
    public void Fp8_kv_cache_doubles_the_tokens()
    {
        var auto = Engine.Estimate(Request(1, ("max_model_len", "8192"))).Capacity!;
        var fp8 = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("kv_cache_dtype", "fp8"))).Capacity!;
        Assert.InRange(fp8.KvCacheTokens / (double)auto.KvCacheTokens, 1.999, 2.001);
    }

    [Fact]
    public void Settings_that_vLLM_lacks_are_rejected_naming_the_known_ones()
    {
        var e = Assert.Throws<InvalidSettingException>(() => Engine.Estimate(Request(1, ("ctx_size", "4096"))));
        Assert.Contains("tensor_parallel_size", e.Message);
    }

    [Fact]
    public void More_ranks_than_GPUs_is_an_error()
    {
        Assert.Throws<InvalidSettingException>(() => Engine.Estimate(Request(1, ("tensor_parallel_size", "2"))));
    }

    [Fact]
    public void Max_model_len_above_the_trained_context_is_rejected()
    {
        var e = Assert.Throws<InvalidSettingException>(() => Engine.Estimate(Request(1, ("max_model_len", "200000"))));
        Assert.Contains("max_position_embeddings=131072", e.Message);
    }

    [Fact]
    public void Bfloat16_falls_back_to_half_below_Ampere_unless_asked_for()
    {
        var t4 = new EstimateRequest(ServingFixtures.Llama31_8B(4096), new Deployment(ServingFixtures.T4, 2), new Workload(),
            new EngineSettings([new("tensor_parallel_size", "2")]));
        Assert.Contains(Engine.Estimate(t4).Settings, s => s.Name == "max_model_len" && s.Value == 4096);
        var e = Assert.Throws<InvalidSettingException>(() => Engine.Estimate(t4 with { Settings = t4.Settings.With("dtype", "bfloat16") }));
        Assert.Contains("compute capability of at least 8.0", e.Message);
    }

    [Fact]
    public void Long_max_model_len_is_allowed_with_the_override()
    {
        var r = Engine.Estimate(Request(1, ("max_model_len", "200000"), ("allow_long_max_model_len", "true")));
        Assert.Contains(r.Settings, s => s.Name == "max_model_len" && s.Value == 200000);
    }

    [Fact]
    public void Cpu_offload_moves_weights_off_the_GPU()
    {
        var none = Engine.Estimate(Request(1, ("max_model_len", "8192")));
        var off = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("cpu_offload_gb", "4")));
        Assert.Equal(4.0, none.PrintedFigures["weights_gib"] - off.PrintedFigures["weights_gib"], 3);
        Assert.True(off.Capacity!.KvCacheTokens > none.Capacity!.KvCacheTokens);
    }

    [Fact]
    public void Pipeline_parallel_takes_the_smallest_stage_pool()
    {
        var r = Engine.Estimate(Request(2, ("pipeline_parallel_size", "2"), ("max_model_len", "8192")));
        Assert.Equal(2, r.Devices.Length);
        // stage 0 holds the embedding, stage 1 the head and the sampler's peak: capacity is the smaller of the two
        Assert.True(r.Capacity!.KvCacheTokens > Engine.Estimate(Request(1, ("max_model_len", "8192"))).Capacity!.KvCacheTokens);
    }

    [Fact]
    public void Kv_cache_memory_skips_the_budget()
    {
        var r = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("kv_cache_memory_bytes", (10L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(5120, r.Capacity!.GpuBlocks);                 // 10 GiB / (32 layers × 64 KiB pages)
    }

    [Fact]
    public void Estimating_cuda_graphs_charges_them_before_the_KV_cache()
    {
        var after = Engine.Estimate(Request(1, ("max_model_len", "8192")));
        var before = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("estimate_cudagraphs", "true")));
        long graphs = after.Devices[0].Items.Single(i => i.Name.StartsWith("CUDA graphs", StringComparison.Ordinal)).Bytes;
        Assert.True(graphs > 0);
        Assert.InRange(after.Capacity!.GpuBlocks!.Value - before.Capacity!.GpuBlocks!.Value, graphs / (2L << 20), graphs / (2L << 20) + 1);
        var eager = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("enforce_eager", "true")));
        Assert.Equal(0, eager.PrintedFigures["cuda_graph_gib"]);
    }

    /// <summary>
    /// Graph memory follows the kernels captured per layer: 10 for a dense layer, 2 all-reduces more under TP, 8 punica
    /// launches more with LoRA; from 0.11 LoRA captures every size twice (with and without active adapters).
    /// </summary>
    [Theory]
    [InlineData("0.10.1 V1", 1, false, 10L)]
    [InlineData("0.10.1 V1", 2, false, 12L)]
    [InlineData("0.10.1 V1", 1, true, 18L)]
    [InlineData("0.11.2 V1", 1, true, 36L)]
    [InlineData("0.7.2 V0", 1, true, 18L)]
    public void Cuda_graph_memory_scales_with_the_kernels_captured_per_layer(string version, int tp, bool lora, long kernelsTimesGraphs)
    {
        var settings = new List<(string, string)> { ("max_model_len", "8192"), ("engine_version", version), ("max_num_seqs", "256"), ("max_num_batched_tokens", "8192") };
        if (lora)
            settings.Add(("enable_lora", "true"));
        var r = Engine.Estimate(Request(tp, [.. settings, ("tensor_parallel_size", tp.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
        long graphs = r.Devices[0].Items.Single(i => i.Name.StartsWith("CUDA graphs", StringComparison.Ordinal)).Bytes;
        // V1: 1, 2, 4, 8…248 and 256…512 (51 sizes); V0: 1, 2, 4, 8…256 (35)
        int sizes = version.Contains("V1", StringComparison.Ordinal) ? 51 : 35;
        Assert.Equal(sizes * 32L * kernelsTimesGraphs * VllmCudaGraphs.BytesPerKernelNode, graphs);
    }

    /// <summary>
    /// <c>--quantization bitsandbytes</c> on a 16-bit multimodal checkpoint quantizes the vision blocks too, where a
    /// pre-quantized checkpoint that skips "visual" keeps them in 16 bits.
    /// </summary>
    [Fact]
    public void In_flight_bitsandbytes_quantizes_the_vision_encoder()
    {
        var model = global::VramFit.Models.ModelCatalog.Find("Qwen/Qwen2.5-VL-3B-Instruct").Describe();
        var nf4 = global::VramFit.Numerics.WeightFormat.Parse("nf4");
        long inFlight = WeightsOf(model);
        long skipping = WeightsOf(model.WithFormat(nf4));
        double expected = model.VisionEncoderParameters * (2 - nf4.BitsPerWeight() / 8);
        Assert.InRange(skipping - inFlight, expected - (2L << 20), expected + (2L << 20));
    }

    /// <summary>
    /// V1 profiles a multimodal model with one dummy image of the largest size first (16,384 tokens = 65,536 patches for
    /// Qwen2.5-VL): that ViT pass sets the peak when it outgrows the text forward; V0 runs no separate encoder pass.
    /// </summary>
    [Fact]
    public void V1_profiles_the_vision_encoder_with_the_largest_image()
    {
        var model = global::VramFit.Models.ModelCatalog.Find("Qwen/Qwen2.5-VL-3B-Instruct").Describe();
        var shape = model.VisionEncoder!;
        Assert.Equal((16384, 4, 1176, true), (shape.MaxTokensPerImage, shape.PatchesPerToken, shape.InputElementsPerPatch, shape.GatedMlp));
        var (encoder, output) = VllmProfileRun.EncoderPeakBytes(shape, 2048, 256, 16384, 1, 2, model.HiddenSize);
        // 65,536 patches × (1176 pixels + 2 × 1280 stream + 3 × 3420 MLP) × 2 B; outputs 16,384 × 2048 × 2 B
        Assert.Equal(65536L * (1176 + 2 * 1280 + 3 * 3420) * 2, encoder);
        Assert.Equal(16384L * 2048 * 2, output);

        double PeakGib(string version) => Engine.Estimate(new EstimateRequest(model, new Deployment(ServingFixtures.H100, 1), new Workload(),
            new EngineSettings([new("engine_version", version), new("max_model_len", "16384"), new("max_num_seqs", "1")]))).PrintedFigures["activation_peak_gib"];
        Assert.Equal(Math.Round(encoder / (double)(1L << 30), 2), PeakGib("0.10.1 V1"), 2);
        Assert.True(PeakGib("0.9.2 V0") < encoder / (double)(1L << 30));
    }

    private static long WeightsOf(global::VramFit.Models.ModelDescription model)
    {
        var request = new EstimateRequest(model, new Deployment(ServingFixtures.H100, 1), new Workload(),
            new EngineSettings([new("quantization", "bitsandbytes"), new("max_model_len", "4096")]));
        return (long)(Engine.Estimate(request).PrintedFigures["weights_gib"] * (1L << 30));
    }

    /// <summary>
    /// Under V0 with TP &gt; 1 every rank logs its own profile line; <c>printed_rank=worker</c> prints a non-driver
    /// worker's (the forward alone, no sampler, a larger pool) while blocks stay the engine-wide, driver-bound figure.
    /// </summary>
    [Fact]
    public void A_v0_worker_line_prints_the_forward_peak_and_its_larger_pool()
    {
        (string, string)[] common = [("engine_version", "0.7.2 V0"), ("tensor_parallel_size", "2"), ("max_model_len", "8192")];
        var driver = Engine.Estimate(Request(2, common));
        var worker = Engine.Estimate(Request(2, [.. common, ("printed_rank", "worker")]));
        Assert.True(worker.PrintedFigures["activation_peak_gib"] < driver.PrintedFigures["activation_peak_gib"]);
        double lessPeak = driver.PrintedFigures["activation_peak_gib"] - worker.PrintedFigures["activation_peak_gib"];
        double morePool = worker.PrintedFigures["kv_cache_gib"] - driver.PrintedFigures["kv_cache_gib"];
        Assert.InRange(morePool, lessPeak - 0.02, lessPeak + 0.02);   // both printed to 0.01 GiB
        Assert.Equal(driver.PrintedFigures["gpu_blocks"], worker.PrintedFigures["gpu_blocks"]);
        Assert.Throws<Errors.InvalidSettingException>(() => Engine.Estimate(Request(2, [.. common, ("printed_rank", "rank7")])));
    }

    [Theory]
    [InlineData("0.11.0 V1", false)]
    [InlineData("0.20.2 V1", false)]
    [InlineData("0.21.0 V1", true)]
    [InlineData("0.27.1", true)]
    public void CUDA_graph_memory_is_charged_before_the_KV_cache_from_0_21(string version, bool charged)
    {
        var r = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("engine_version", version)));
        Assert.Equal(charged, r.Devices[0].Items.Any(i => i.Name == "CUDA graphs (estimated before the KV cache)"));
        var optOut = Engine.Estimate(Request(1, ("max_model_len", "8192"), ("engine_version", version), ("estimate_cudagraphs", "false")));
        Assert.Equal(charged, optOut.Capacity!.GpuBlocks > r.Capacity!.GpuBlocks);
    }

    [Property(MaxTest = 40)]
    public Property KV_tokens_grow_with_gpu_memory_utilization(PositiveInt a, PositiveInt b)
    {
        double u1 = 0.3 + a.Get % 60 / 100.0, u2 = 0.3 + b.Get % 60 / 100.0;
        (u1, u2) = (Math.Min(u1, u2), Math.Max(u1, u2));
        long t1 = Engine.Estimate(Request(1, ("max_model_len", "4096"), ("gpu_memory_utilization", u1.ToString(System.Globalization.CultureInfo.InvariantCulture)))).Capacity!.KvCacheTokens;
        long t2 = Engine.Estimate(Request(1, ("max_model_len", "4096"), ("gpu_memory_utilization", u2.ToString(System.Globalization.CultureInfo.InvariantCulture)))).Capacity!.KvCacheTokens;
        return (t1 <= t2).ToProperty().Label($"{u1}: {t1} tokens > {u2}: {t2}");
    }

    [Theory]
    [InlineData("0.10.1.1 V1", 0, 10, 1, true)]
    [InlineData("~0.6.x V0", 0, 6, 99, false)]
    [InlineData("main@2024-12-13 (PR #10511) V0", 0, 6, 4, false)]
    [InlineData("0.2.4", 0, 2, 4, false)]
    [InlineData("0.11.2 V1", 0, 11, 2, true)]
    [InlineData("0.9.2 V0", 0, 9, 2, false)]
    [InlineData(null, 0, 11, 0, true)]
    public void Versions_parse_from_what_logs_print(string? text, int major, int minor, int patch, bool v1) =>
        Assert.Equal(new VllmVersion(major, minor, patch, v1), VllmVersion.Parse(text));
}

public class VllmArchitectureTests
{
    private static readonly VllmEngine Engine = new();

    [Fact]
    public void DeepSeek_style_MLA_on_eight_H200_pages_the_latent_per_rank()
    {
        var h200 = ServingFixtures.Gpu("NVIDIA H200", 143771, "NVLink 4", "9.0");
        var model = ServingFixtures.MlaModel().WithFormat(VramFit.Numerics.WeightFormat.Parse("fp8-block"));
        var r = Engine.Estimate(new EstimateRequest(model, new Deployment(h200, 8), new Workload(),
            new EngineSettings([new("tensor_parallel_size", "8"), new("max_model_len", "32768")])));
        var kv = r.Devices[0].Items.Single(i => i.Name == "KV cache");
        Assert.Contains(kv.Inputs, i => i.Name == "page size" && i.Value == 16 * 576 * 2);
        Assert.Contains(kv.Inputs, i => i.Name == "layers per group" && i.Value == 61);
        Assert.True(r.Capacity!.KvCacheTokens > 32768);
        Assert.Null(r.Capacity.EngineError);
    }

    [Fact]
    public void The_same_model_on_eight_H100_leaves_no_room_and_says_so()
    {
        var model = ServingFixtures.MlaModel().WithFormat(VramFit.Numerics.WeightFormat.Parse("fp8-block"));
        var r = Engine.Estimate(new EstimateRequest(model, new Deployment(ServingFixtures.H100, 8), new Workload(),
            new EngineSettings([new("tensor_parallel_size", "8"), new("max_model_len", "32768")])));
        Assert.Equal("No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.", r.Capacity!.EngineError);
        Assert.Equal(0, r.Capacity.KvCacheTokens);
        Assert.False(r.Fits);
    }

    [Fact]
    public void Mamba_hybrid_runs_through_the_engine()
    {
        var mamba = new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Recurrent, Recurrent = new RecurrentSpec { Kind = RecurrentKind.Mamba2, InnerSize = 8192, StateSize = 128, ConvKernel = 4, HeadCount = 128, GroupCount = 8 } },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 16384, Gated = false },
        };
        var attn = ServingFixtures.Dense(32, 8, 128, 16384);
        var model = new ModelDescription("nemotron_h", 4096, 131072, Enumerable.Range(0, 24).Select(i => i % 6 == 5 ? attn : mamba), maxContext: 65536, name: "hybrid");
        var r = Engine.Estimate(new EstimateRequest(model, new Deployment(ServingFixtures.H100, 2), new Workload(),
            new EngineSettings([new("tensor_parallel_size", "2"), new("max_model_len", "32768")])));
        Assert.True(r.Capacity!.KvCacheTokens > 0);
        Assert.True(r.Capacity.BlockSize > 16);                      // attention blocks grown to the state page
        Assert.Contains(r.Notes, n => n.StartsWith("hybrid KV cache", StringComparison.Ordinal));
    }

    [Fact]
    public void Weight_item_children_add_up_with_lora_and_offload()
    {
        var r = Engine.Estimate(new EstimateRequest(ServingFixtures.Llama31_8B(), new Deployment(ServingFixtures.H100), new Workload(),
            new EngineSettings([new("max_model_len", "8192"), new("enable_lora", "true"), new("max_lora_rank", "64"), new("cpu_offload_gb", "2")])));
        var w = r.Devices[0].Items.Single(i => i.Name == "weights");
        Assert.Equal(w.Bytes, w.Children.Sum(c => c.Bytes));
        // rank 64 LoRA on all 7 projections of 32 layers: 64 × (3·4096 + 6144 + 4096 + 4096 + 2·(4096 + 14336) + 14336 + 4096) × 2 B × 32
        long lora = 64L * (3 * 4096 + 6144 + 4096 + 4096 + 2 * (4096 + 14336) + 14336 + 4096) * 2 * 32;
        Assert.Contains(w.Children, c => c.Name == "LoRA slots" && c.Bytes == lora);
    }
}
