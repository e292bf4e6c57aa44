using VramFit.Engines;
using VramFit.Engines.Serving;
using VramFit.Engines.Vllm;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.Vllm;

/// <summary>Rules that changed between vLLM releases: what the profile charges, chunked-prefill defaults, graph sizes.</summary>
public class VllmReleaseRulesTests
{
    private static readonly VllmEngine Engine = new();

    private static MemoryReportSettingsView Estimate(ModelDescription model, Accelerator gpu, int gpus, params (string, string)[] settings)
    {
        var report = Engine.Estimate(new EstimateRequest(model, new Deployment(gpu, gpus), new Workload(),
            new EngineSettings(settings.Select(s => new KeyValuePair<string, string>(s.Item1, s.Item2)))));
        return new MemoryReportSettingsView(report);
    }

    private static VramFit.Numerics.WeightFormat RuntimeWeights(ModelDescription model, Accelerator gpu, params (string, string)[] settings) =>
        VllmSettings.Resolve(new EstimateRequest(model, new Deployment(gpu), new Workload(),
            new EngineSettings(settings.Select(s => new KeyValuePair<string, string>(s.Item1, s.Item2))))).Weights;

    [Theory]
    // Qwen2.5-7B's MLP (h 3584, I 18944) at 16,384 tokens. float16 on a T4: down_proj holds the bf16 copy of its
    // input (T × I) and a shard result (T × h) beside the dequantized weight (h × I): 436,994,048 elements.
    [InlineData(true, 873_988_096L)]
    // bfloat16: no copies, only the shard result and the dequantized weight: 126,615,552 elements
    [InlineData(false, 253_231_104L)]
    public void Bitsandbytes_linear_layers_hold_bf16_temporaries(bool float16Model, long bytes) =>
        Assert.Equal(bytes, VllmProfileRun.BitsandbytesSurplusBytes(ServingFixtures.Qwen25VL7B_Bnb(), 16384, 1, float16Model, 0, 28));

    [Fact]
    public void Bitsandbytes_checkpoints_profile_a_larger_peak()
    {
        // vllm-unsloth-qwen2-5-vl-7b-instruct-unsloth-bnb-4bit-teslat4-v092 logged a 2.71 GiB activation peak
        (string, string)[] settings = [("engine_version", "0.9.2 V0"), ("gpu_memory_utilization", "0.7693"), ("max_model_len", "16384"),
            ("max_num_seqs", "1"), ("max_num_batched_tokens", "16384"), ("dtype", "float16"), ("quantization", "bitsandbytes")];
        var bnb = Estimate(ServingFixtures.Qwen25VL7B_Bnb(), ServingFixtures.T4, 1, settings);
        Assert.InRange(bnb.Figure("activation_peak_gib"), 2.71, 2.71 * 1.12);
        var plain = Estimate(ServingFixtures.Qwen25VL7B_Bnb().WithFormat(VramFit.Numerics.WeightFormat.DenseOf(VramFit.Numerics.ScalarType.F16)), ServingFixtures.T4, 1,
            settings.Where(s => s.Item1 != "quantization").ToArray());
        // both figures are printed to 0.01 GiB
        Assert.InRange(bnb.Figure("activation_peak_gib") - plain.Figure("activation_peak_gib"), 873_988_096 / (double)(1L << 30) - 0.011, 873_988_096 / (double)(1L << 30) + 0.011);
    }

    [Fact]
    public void V0_notes_what_the_workers_without_the_sampler_log()
    {
        // vllm-r1-distill-qwen-14b-2x4090-tp2-util098: the non-driver worker's line shows 0.19 GiB activations and
        // 8.69 GiB for KV; the driver's pool (with the sampler's peak) is the smaller one the engine uses
        var r = Estimate(ServingFixtures.R1DistillQwen14B(), ServingFixtures.Rtx4090, 2, ("engine_version", "~0.7.x V0"),
            ("tensor_parallel_size", "2"), ("gpu_memory_utilization", "0.98"));
        var note = Assert.Single(r.Report.Notes, n => n.StartsWith("V0 runs the sampler on the driver", StringComparison.Ordinal));
        var match = System.Text.RegularExpressions.Regex.Match(note, @"peak of ([0-9.]+) GiB and ([0-9.]+) GiB for KV");
        double activation = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double kv = double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(activation < r.Figure("activation_peak_gib"));
        Assert.True(kv > r.Figure("kv_cache_gib"));
        Assert.InRange(kv, 8.69 * 0.97, 8.69 * 1.03);
        // V1 samples on every rank, and one rank has no other workers
        Assert.DoesNotContain(Estimate(ServingFixtures.R1DistillQwen14B(), ServingFixtures.Rtx4090, 2, ("engine_version", "0.10.1 V1"),
            ("tensor_parallel_size", "2")).Report.Notes, n => n.StartsWith("V0 runs the sampler", StringComparison.Ordinal));
    }

    [Fact]
    public void Symmetric_GPTQ_on_Marlin_keeps_no_zero_points_and_no_group_index()
    {
        var phi4 = ServingFixtures.Phi4Gptq();
        var marlin = RuntimeWeights(phi4, ServingFixtures.H100, ("engine_version", "0.6.6"));
        Assert.False(marlin.HasZeroPoints);
        Assert.False(marlin.HasGroupIndex);
        Assert.Equal(marlin, RuntimeWeights(phi4, ServingFixtures.T4, ("engine_version", "0.6.6"), ("quantization", "gptq_marlin")));
        // Turing runs exllama unless told otherwise; --quantization gptq forces exllama; asymmetric GPTQ has no Marlin type
        Assert.True(RuntimeWeights(phi4, ServingFixtures.T4, ("engine_version", "0.6.6")).HasZeroPoints);
        Assert.True(RuntimeWeights(phi4, ServingFixtures.H100, ("engine_version", "0.6.6"), ("quantization", "gptq")).HasZeroPoints);
        var asymmetric = new ModelDescription(phi4.Architecture, phi4.HiddenSize, phi4.VocabSize, phi4.Layers, maxContext: phi4.MaxContext,
            dtype: phi4.Dtype, checkpointFormat: phi4.CheckpointFormat! with { Symmetric = false }, name: phi4.Name);
        Assert.True(RuntimeWeights(asymmetric, ServingFixtures.H100, ("engine_version", "0.6.6")).HasZeroPoints);
        // desc_act keeps g_idx (Marlin sorts by it)
        var actOrder = new ModelDescription(phi4.Architecture, phi4.HiddenSize, phi4.VocabSize, phi4.Layers, maxContext: phi4.MaxContext,
            dtype: phi4.Dtype, checkpointFormat: phi4.CheckpointFormat! with { ActOrder = true }, name: phi4.Name);
        Assert.True(RuntimeWeights(actOrder, ServingFixtures.H100, ("engine_version", "0.6.6")).HasGroupIndex);
    }

    [Fact]
    public void Gpt_oss_keeps_its_rotary_table_in_float32()
    {
        // vllm-gptoss-120b-4xa100-80g-tp4-util080-ray (0.10.1.1): "Model loading took 17.2217 GiB" per rank; the
        // YaRN table (131,072 positions × 64 dims) is float32 in vLLM's gpt_oss.py, 32 MiB where bf16 would be 16
        var r = Estimate(ModelCatalog.Find("openai/gpt-oss-120b").Describe(), ServingFixtures.A100_80, 4, ("engine_version", "0.10.1.1 V1"),
            ("tensor_parallel_size", "4"), ("gpu_memory_utilization", "0.8"), ("max_model_len", "16384"), ("quantization", "mxfp4"));
        Assert.InRange(r.Report.PrintedFigures["weights_gib"], 17.2217 - 8.0 / 1024, 17.2217 + 8.0 / 1024);
        var rotary = r.Report.Devices[0].Items.Single(i => i.Name == "weights").Children.Single(c => c.Name == "rotary cos/sin table");
        Assert.Equal(131_072L * 64 * 4, rotary.Bytes);
    }

    [Fact]
    public void Phi4_GPTQ_on_Marlin_loads_what_vLLM_printed()
    {
        // vllm-phi4-autoround-gptq4-h100-util015: "Model loading took 8.5107 GB" (GiB). The checkpoint's qzeros and
        // g_idx (58,572,800 B over 40 layers) are gone after Marlin's post-processing; the blocks round as in PyTorch.
        var r = Estimate(ServingFixtures.Phi4Gptq(), ServingFixtures.H100, 1, ("engine_version", "~0.6.x V0"), ("gpu_memory_utilization", "0.15"),
            ("max_model_len", "2048"), ("quantization", "gptq_marlin"));
        Assert.InRange(r.Report.PrintedFigures["weights_gib"], 8.5107 - 2.0 / 1024, 8.5107 + 2.0 / 1024);
        var exllama = Estimate(ServingFixtures.Phi4Gptq(), ServingFixtures.H100, 1, ("engine_version", "~0.6.x V0"), ("gpu_memory_utilization", "0.15"),
            ("max_model_len", "2048"), ("quantization", "gptq"));
        double droppedGiB = 58_572_800 / (double)(1L << 30);
        Assert.InRange(exllama.Report.PrintedFigures["weights_gib"] - r.Report.PrintedFigures["weights_gib"], droppedGiB - 0.01, droppedGiB + 0.02);
    }

    [Theory]
    // 0.2.4: torch.cuda.max_memory_allocated() only
    [InlineData("0.2.4", VllmNonTorchCharge.None)]
    // 0.2.5 (PR #2031): total - free after the profile run, CUDA context included
    [InlineData("0.2.5", VllmNonTorchCharge.DeviceWide)]
    [InlineData("0.3.0", VllmNonTorchCharge.DeviceWide)]
    // 0.3.1 (PR #2863): init_gpu_memory - free, measured after the context exists
    [InlineData("0.3.1", VllmNonTorchCharge.GrowthSinceInit)]
    [InlineData("0.5.4", VllmNonTorchCharge.GrowthSinceInit)]
    // 0.6.4 (PR #9352): torch peak + (used - torch allocated)
    [InlineData("0.6.4", VllmNonTorchCharge.DeviceWide)]
    [InlineData("main@2024-12-13 (PR #10511) V0", VllmNonTorchCharge.DeviceWide)]
    // 0.6.5 (PR #10511): memory_profiling against the baseline of init_device
    [InlineData("0.6.5", VllmNonTorchCharge.GrowthSinceInit)]
    [InlineData("~0.7.x V0", VllmNonTorchCharge.GrowthSinceInit)]
    // V1 before 0.9.1 charged everything used on the device; PRs #18974/#19312 moved it to the baseline
    [InlineData("0.8.5 V1", VllmNonTorchCharge.DeviceWide)]
    [InlineData("0.9.1 V1", VllmNonTorchCharge.GrowthSinceInit)]
    [InlineData("0.11.0 V1", VllmNonTorchCharge.GrowthSinceInit)]
    public void Non_torch_charge_follows_the_release(string version, VllmNonTorchCharge expected) =>
        Assert.Equal(expected, VllmMemoryProfiler.ChargeOf(VllmVersion.Parse(version)));

    /// <summary>FlashInfer's top-k/top-p sampler by release: on before 0.10.2, off in 0.10.2, on in 0.11.0, off from 0.11.1 (PR #26859), on from 0.20 (PR #40376); never in V0.</summary>
    [Theory]
    [InlineData("0.10.1 V1", true)]
    [InlineData("0.10.2 V1", false)]
    [InlineData("0.11.0 V1", true)]
    [InlineData("0.11.1 V1", false)]
    [InlineData("0.16.0 V1", false)]
    [InlineData("0.20.0 V1", true)]
    [InlineData("0.9.2 V0", false)]
    public void The_flashinfer_sampler_default_follows_the_release(string version, bool flashInfer) =>
        Assert.Equal(flashInfer, VllmSettings.DefaultFlashInferSampler(VllmVersion.Parse(version)));

    /// <summary>Kernel modules and the CUDA context are larger on Hopper (sm90a kernels) than before it; an unknown GPU counts as Hopper.</summary>
    [Fact]
    public void Non_torch_growth_and_the_cuda_context_are_smaller_before_Hopper()
    {
        Assert.Equal(CommunicationBuffers.KernelModulesBytesBeforeHopper, CommunicationBuffers.KernelModulesBytes(ServingFixtures.T4));
        Assert.Equal(CommunicationBuffers.HopperKernelModulesBytes, CommunicationBuffers.KernelModulesBytes(ServingFixtures.H100));
        Assert.Equal(CommunicationBuffers.CudaContextBytesBeforeHopper, CommunicationBuffers.CudaContextBytes(ServingFixtures.Rtx4090));
        Assert.Equal(CommunicationBuffers.HopperCudaContextBytes, CommunicationBuffers.CudaContextBytes(ServingFixtures.Gpu("unknown 80 GB", 81152)));
        Assert.True(CommunicationBuffers.KernelModulesBytesBeforeHopper < CommunicationBuffers.HopperKernelModulesBytes);
    }

    /// <summary>
    /// DeepSeek-V2-Lite at TP 8 (2 of 16 heads a rank, no q LoRA): 0.7.x materializes W_Q_UK [2048, 2 × 512] and
    /// W_UV_O [2 × 512, 2048] per layer (8 MiB in bf16 × 27 layers); from 0.8 a bf16 checkpoint's W_UK_T/W_UV are views,
    /// and only a quantized kv_b_proj is decompressed ([512, 2 × 256] × 2 B per layer).
    /// </summary>
    [Theory]
    [InlineData("0.7.1 V0", null, 27L * 8 << 20)]
    [InlineData("0.7.3 V0", "fp8", 27L * 4 << 20)]
    [InlineData("0.8.5 V0", null, 0L)]
    [InlineData("0.10.1 V1", "fp8", 27L * 512 * 2 * 256 * 2)]
    [InlineData("0.6.4 V0", null, 0L)]
    public void Mla_derived_matrices_follow_the_release(string version, string? quantization, long expected)
    {
        var model = global::VramFit.Models.ModelCatalog.Find("deepseek-ai/DeepSeek-V2-Lite").Describe();
        var settings = new List<KeyValuePair<string, string>> { new("engine_version", version), new("tensor_parallel_size", "8"), new("max_model_len", "4096") };
        if (quantization is not null)
            settings.Add(new("quantization", quantization));
        var s = VllmSettings.Resolve(new EstimateRequest(model, new Deployment(ServingFixtures.H100, 8), new Workload(), new EngineSettings(settings)));
        Assert.Equal(expected, VllmMlaWeights.Bytes(model, s, 0, model.Layers.Length, 2));
    }

    [Fact]
    public void Device_wide_charge_adds_the_CUDA_context_and_custom_all_reduce_arrives_in_0_3()
    {
        var gpu = ServingFixtures.Rtx4090;
        long growth = VllmMemoryProfiler.NonTorchBytes(VllmVersion.Parse("0.7.3 V0"), 2, gpu);
        long deviceWide = VllmMemoryProfiler.NonTorchBytes(VllmVersion.Parse("0.2.5"), 2, gpu);
        Assert.Equal(0, VllmMemoryProfiler.NonTorchBytes(VllmVersion.Parse("0.2.4"), 2, gpu));
        Assert.Equal(growth - CommunicationBuffers.CustomAllReduceBytes + CommunicationBuffers.CudaContextBytes(gpu), deviceWide);
        Assert.Equal(CommunicationBuffers.KernelModulesBytes(gpu), VllmMemoryProfiler.NonTorchBytes(VllmVersion.Parse("0.7.3 V0"), 1, gpu));
    }

    [Fact]
    public void Release_0_2_5_pages_fewer_blocks_than_0_2_4_on_the_same_setup()
    {
        (string, string)[] settings = [("tensor_parallel_size", "2"), ("gpu_memory_utilization", "0.95"), ("max_model_len", "16384"), ("max_num_seqs", "16"), ("dtype", "float16")];
        var v024 = Estimate(ServingFixtures.CodeLlama13B(), ServingFixtures.Rtx4090, 2, [("engine_version", "0.2.4"), .. settings]);
        var v025 = Estimate(ServingFixtures.CodeLlama13B(), ServingFixtures.Rtx4090, 2, [("engine_version", "0.2.5"), .. settings]);
        Assert.Equal(0, v024.Figure("non_torch_gib"));
        Assert.True(v025.Figure("gpu_blocks") < v024.Figure("gpu_blocks"));
    }

    [Theory]
    // V0 defaults chunked prefill on above 32K (2048 tokens from 0.6.2, 512 before), else one whole prompt per step
    [InlineData("~0.7.x V0", 131072, false, 2048)]
    [InlineData("0.5.4", 131072, false, 512)]
    [InlineData("0.4.3", 131072, false, 131072)]
    [InlineData("~0.7.x V0", 32768, false, 32768)]
    [InlineData("~0.7.x V0", 8192, false, 8192)]
    [InlineData("~0.7.x V0", 1024, false, 2048)]
    [InlineData("0.2.4", 1024, false, 2560)]
    // LoRA keeps chunked prefill off (arg_utils.py: "not self.enable_lora")
    [InlineData("~0.7.x V0", 131072, true, 131072)]
    public void V0_max_num_batched_tokens_default_follows_chunked_prefill(string version, long maxModelLen, bool lora, double expected)
    {
        var r = Estimate(ServingFixtures.R1DistillQwen14B(), ServingFixtures.H100, 1,
            ("engine_version", version), ("max_model_len", maxModelLen.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("enable_lora", lora ? "true" : "false"));
        Assert.Equal(expected, r.Setting("max_num_batched_tokens"));
    }

    [Fact]
    public void V0_multimodal_and_MLA_models_keep_chunked_prefill_off_from_0_7()
    {
        var mla = ServingFixtures.MlaModel(layers: 4);
        var on06 = VllmSettings.V0ChunkedPrefillByDefault(VllmVersion.Parse("0.6.6 V0"), 131072, lora: false, mla);
        var off07 = VllmSettings.V0ChunkedPrefillByDefault(VllmVersion.Parse("0.7.3 V0"), 131072, lora: false, mla);
        Assert.True(on06);
        Assert.False(off07);
    }

    [Theory]
    // V0 _BATCH_SIZES_TO_CAPTURE: [1, 2, 4] + 8..256 step 8, cut at max_num_seqs padded to a captured size
    [InlineData("0.7.3 V0", 16, 2048, 5)]
    [InlineData("0.7.3 V0", 20, 2048, 6)]
    [InlineData("0.7.3 V0", 256, 2048, 35)]
    [InlineData("0.7.3 V0", 1024, 8192, 35)]
    // V1 before 0.11: up to 512 (51 sizes) and never above max_num_batched_tokens
    [InlineData("0.10.1 V1", 256, 2048, 51)]
    [InlineData("0.10.1 V1", 256, 256, 35)]
    // 0.11: up to min(2 × max_num_seqs, 512)
    [InlineData("0.11.0 V1", 64, 8192, 19)]
    [InlineData("0.11.0 V1", 1024, 8192, 51)]
    public void Graph_capture_sizes_follow_max_num_seqs(string version, int seqs, long batched, int expected)
    {
        var r = Estimate(ServingFixtures.Llama31_8B(), ServingFixtures.H100, 1, ("engine_version", version), ("max_model_len", "8192"),
            ("max_num_seqs", seqs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("max_num_batched_tokens", batched.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(expected, r.Input("CUDA graphs", "capture sizes"));
    }

    [Fact]
    public void The_budget_multiplies_the_CUDA_runtime_total_not_the_datasheet()
    {
        var catalog = AcceleratorCatalog.TryFind("RTX 4090")!;
        Assert.Equal(24L << 30, catalog.MemoryBytes);
        Assert.Equal(24217L << 20, catalog.RuntimeTotalBytes);
        var r = Estimate(ServingFixtures.Llama31_8B(), catalog, 1, ("engine_version", "0.7.3 V0"), ("max_model_len", "8192"));
        Assert.Equal(24217L << 20, r.Report.Devices[0].CapacityBytes);
        // a catalogued part without a published CUDA reading keeps its datasheet figure
        var mi300x = AcceleratorCatalog.TryFind("MI300X")!;
        Assert.Equal(mi300x.MemoryBytes, mi300x.RuntimeTotalBytes);
    }

    /// <summary>Reads a report's printed figures, resolved settings and item inputs by name.</summary>
    private sealed record MemoryReportSettingsView(Reports.MemoryReport Report)
    {
        public double Figure(string name) => Report.PrintedFigures[name];

        public double Setting(string name) => Report.Settings.Single(s => s.Name == name).Value;

        public double Input(string itemPrefix, string input) => Report.Devices[0].Items
            .Single(i => i.Name.StartsWith(itemPrefix, StringComparison.Ordinal)).Inputs.Single(i => i.Name == input).Value;
    }
}
