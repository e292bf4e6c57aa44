using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufMetadataFixtures;

namespace VramFit.Tests.Engines.LlamaCpp;

public class LlamaCppEngineTests
{
    private static readonly Accelerator Gpu = new()
    {
        Id = "rtx-3090", Name = "NVIDIA GeForce RTX 3090", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 24L << 30, MemoryBandwidthGBps = 936,
    };

    internal static MemoryReport Estimate(GgufMetadata meta, int gpus, bool ik = false, params (string Key, string Value)[] settings) =>
        new LlamaCppEngine(ik).Estimate(new EstimateRequest(
            GgufModelTranslator.Translate(meta), new Deployment(Gpu, gpus), new Workload(),
            new EngineSettings(settings.Select(s => new KeyValuePair<string, string>(s.Key, s.Value)))));

    private static double Figure(MemoryReport r, string name) =>
        r.PrintedFigures.TryGetValue(name, out var v) ? v : throw new Xunit.Sdk.XunitException($"no figure {name}; have {string.Join(", ", r.PrintedFigures.Keys)}");

    [Theory]
    [InlineData("llama.cpp", "b5622", 16384, "f16", "f16", 768.0, 768.0)]      // lcpp-qwen3-30b-a3b-q4km-4090-5090-ot-exps-cpu
    [InlineData("ik_llama.cpp", "3673", 32768, "f16", "f16", 1536.0, 1536.0)]  // ikl-qwen3-30b-a3b-q4kxl-2xT4
    [InlineData("llama.cpp", "b5271", 16384, "q8_0", "q8_0", 408.0, 408.0)]    // 17/32 B per element × 48 layers × 512 × 16384
    public void Qwen3_30B_kv_matches_the_printed_sizes(string engine, string build, int ctx, string k, string v, double kMib, double vMib)
    {
        var r = Estimate(Qwen3_30B_A3B(), 1, engine == "ik_llama.cpp",
            ("ctx_size", ctx.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("cache_type_k", k), ("cache_type_v", v), ("flash_attn", "true"), ("build", build));
        Assert.Equal(kMib, Figure(r, "k_mib"), 6);
        Assert.Equal(vMib, Figure(r, "v_mib"), 6);
    }

    [Fact]
    public void Gemma3_in_ik_llama_caches_every_layer_at_full_length()
    {
        var r = Estimate(Gemma3_27B(), 1, ik: true, ("ctx_size", "32768"), ("flash_attn", "true"));
        Assert.Equal(15872.0, Figure(r, "kv_buffer_mib.CUDA0"), 6);                  // ikl-gemma3-27b-qat-q4km-a6000
    }

    [Fact]
    public void Gpt_oss_in_mainline_has_a_full_and_a_window_sized_swa_cache()
    {
        // lcpp-gptoss-20b-mxfp4-ctx131072-issue822: 3072 + 18 MiB, 131072 and 768 cells
        var r = Estimate(GptOss_20B(), 1, false, ("ctx_size", "131072"), ("ubatch_size", "512"), ("flash_attn", "true"), ("build", "b6699"));
        Assert.Equal(3072.0, Figure(r, "kv_buffer_mib.CUDA0[0]"), 6);
        Assert.Equal(18.0, Figure(r, "kv_buffer_mib.CUDA0[1]"), 6);
        Assert.Equal(131072, Figure(r, "kv_cells[0]"));
        Assert.Equal(768, Figure(r, "kv_cells[1]"));                                 // pad256(128 + 512)
    }

    [Fact]
    public void Swa_full_and_pre_iswa_builds_cache_sliding_layers_at_full_length()
    {
        // --swa-full keeps the two iSWA caches, the sliding one at full length (llama-kv-cache-iswa.cpp); builds before
        // iSWA had one cache for every layer
        var full = Estimate(GptOss_20B(), 1, false, ("ctx_size", "131072"), ("swa_full", "true"));
        var old = Estimate(GptOss_20B(), 1, false, ("ctx_size", "131072"), ("build", "~2025-03"));
        Assert.Equal(3072.0, Figure(full, "kv_buffer_mib.CUDA0[0]"), 6);
        Assert.Equal(3072.0, Figure(full, "kv_buffer_mib.CUDA0[1]"), 6);
        Assert.Equal(131072, Figure(full, "kv_cells[1]"));
        Assert.Equal(6144.0, Figure(old, "kv_buffer_mib.CUDA0"), 6);
    }

    /// <summary>
    /// A split GGUF maps one host buffer per file: <c>split_files</c> lays the estimated tensors over that many files in
    /// order, each about an equal share, and the buffers sum to the single-file mapping.
    /// </summary>
    [Fact]
    public void Split_files_map_one_host_buffer_each()
    {
        var one = Estimate(GptOss_20B(), 1, false, ("ctx_size", "4096"), ("n_gpu_layers", "0"));
        var four = Estimate(GptOss_20B(), 1, false, ("ctx_size", "4096"), ("n_gpu_layers", "0"), ("split_files", "4"));
        double[] parts = [.. Enumerable.Range(0, 4).Select(i => Figure(four, $"model_buffer_mib.CPU_Mapped[{i}]"))];
        Assert.Equal(Figure(one, "model_buffer_mib.CPU_Mapped"), parts.Sum(), 0);
        Assert.All(parts, x => Assert.InRange(x, parts.Sum() / 4 * 0.8, parts.Sum() / 4 * 1.2));
    }

    /// <summary>Metal maps mmap'd GPU weights into "Metal_Mapped"; builds from ~b7830 name the device "MTL0".</summary>
    [Theory]
    [InlineData("b7000", "Metal")]
    [InlineData("b8164", "MTL0")]
    public void Metal_buffers_follow_the_build(string build, string device)
    {
        var r = Estimate(GptOss_20B(), 1, false, ("ctx_size", "4096"), ("backend", "metal"), ("build", build));
        Assert.True(Figure(r, $"model_buffer_mib.{device}_Mapped") > 10_000);
        Assert.True(Figure(r, $"compute_buffer_mib.{device}") > 0);
        Assert.True(Figure(r, $"kv_buffer_mib.{device}[0]") > 0);
    }

    [Fact]
    public void Old_layout_deepseek_caches_full_mha_heads_in_mainline()
    {
        // ipexllm-flashmoe-deepseek-r1-q4km-8xsycl-kv-i8: K 5856, V 3904 MiB with a one-byte cache at 4096 cells
        var r = Estimate(DeepSeekV3(), 1, false, ("ctx_size", "4096"), ("cache_type_k", "i8"), ("cache_type_v", "i8"), ("flash_attn", "true"));
        Assert.Equal(5856.0, Figure(r, "k_mib"), 6);
        Assert.Equal(3904.0, Figure(r, "v_mib"), 6);
    }

    [Theory]
    [InlineData(2, 32768, "f16", 2196.0)]       // ikl-deepseek-v3-q4km-32k-mla3-ub512
    [InlineData(3, 32768, "q8_0", 1166.625)]    // ikl-deepseek-r1-0528-iq4ksr4-32k-5090 (printed 1166.62)
    public void Ik_llama_mla_caches_only_the_latent(int mla, int ctx, string typeK, double kMib)
    {
        var r = Estimate(DeepSeekV3(), 1, true, ("ctx_size", ctx.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("cache_type_k", typeK), ("mla_use", mla.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("flash_attn", "true"));
        Assert.Equal(kMib, Figure(r, "k_mib"), 6);
        Assert.False(r.PrintedFigures.ContainsKey("v_mib"));
    }

    [Theory]
    [InlineData("b7000", 576 + 512)]
    [InlineData("b8211", 576)]
    public void Mla_layout_gguf_drops_v_since_vless_mla(string build, int elementsPerToken)
    {
        var r = Estimate(DeepSeekV3Mla(), 1, false, ("ctx_size", "4096"), ("build", build), ("flash_attn", "true"));
        double kv = Figure(r, "k_mib") + r.PrintedFigures.GetValueOrDefault("v_mib");
        Assert.Equal(61.0 * 4096 * elementsPerToken * 2 / 1048576, kv, 6);
    }

    [Fact]
    public void Layers_split_over_equal_gpus_by_upper_bound_of_the_cumulative_split()
    {
        // ikl-qwen3-30b-a3b-q4kxl-2xT4: 25 layers (1600 MiB) on CUDA0, 23 + output (1472 MiB) on CUDA1
        var r = Estimate(Qwen3_30B_A3B(), 2, true, ("ctx_size", "32768"), ("n_gpu_layers", "49"), ("flash_attn", "true"));
        Assert.Equal(1600.0, Figure(r, "kv_buffer_mib.CUDA0"), 6);
        Assert.Equal(1472.0, Figure(r, "kv_buffer_mib.CUDA1"), 6);
    }

    [Fact]
    public void Tensor_split_and_partial_offload_place_the_last_layers()
    {
        // ikl-deepseek-v3-iq2kr4-mla2-4gpu: -ngl 27 -ts 17,20,21,45 → 5/5/6/11 layers, 34 on the host
        var r = Estimate(DeepSeekV3(), 4, true, ("ctx_size", "8192"), ("n_gpu_layers", "27"), ("tensor_split", "17,20,21,45"), ("mla_use", "2"), ("flash_attn", "false"));
        Assert.Equal([306.0, 45.0, 45.0, 54.0, 99.0],
            new[] { "CUDA_Host", "CUDA0", "CUDA1", "CUDA2", "CUDA3" }.Select(d => Figure(r, $"kv_buffer_mib.{d}")));
    }

    [Fact]
    public void Mainline_offloads_the_output_layer_first()
    {
        var r = Estimate(Llama2_13B(), 1, false, ("ctx_size", "2048"), ("n_gpu_layers", "1"));
        Assert.False(r.PrintedFigures.ContainsKey("kv_buffer_mib.CUDA0"));
        Assert.True(r.PrintedFigures.ContainsKey("model_buffer_mib.CUDA0"));       // output.weight and output_norm
        Assert.Equal(1600.0, Figure(r, "kv_buffer_mib.CPU"), 6);
    }

    [Fact]
    public void No_kv_offload_keeps_the_cache_in_host_memory()
    {
        var r = Estimate(Llama2_13B(), 1, false, ("ctx_size", "2048"), ("no_kv_offload", "true"));
        Assert.Equal(1600.0, Figure(r, "kv_buffer_mib.CPU"), 6);
        Assert.False(r.PrintedFigures.ContainsKey("kv_buffer_mib.CUDA0"));
    }

    [Fact]
    public void N_cpu_moe_keeps_the_experts_of_the_first_layers_on_the_cpu()
    {
        // without mmap the host weights are copied into pinned memory: what leaves the GPU arrives there
        var all = Estimate(Qwen3_30B_A3B(), 1, false, ("ctx_size", "4096"), ("no_mmap", "true"));
        var some = Estimate(Qwen3_30B_A3B(), 1, false, ("ctx_size", "4096"), ("no_mmap", "true"), ("n_cpu_moe", "10"));
        double moved = Figure(all, "model_buffer_mib.CUDA0") - Figure(some, "model_buffer_mib.CUDA0");
        Assert.False(all.PrintedFigures.ContainsKey("model_buffer_mib.CUDA_Host"));
        Assert.Equal(moved, Figure(some, "model_buffer_mib.CUDA_Host"), 3);
        Assert.InRange(moved, 10 * 200, 10 * 400);      // ten layers of 128 × 3 q4_K/q6_K experts of 768 × 2048
    }

    [Fact]
    public void With_mmap_the_host_buffer_is_the_file_range_of_its_tensors()
    {
        // llama.cpp maps the file from the first to the last byte of the host tensors: token_embd at the start of
        // the file through the experts of layer 9, so the attention weights of layers 0–9 (on the GPU) lie inside
        var tensors = LlamaCppTensors.Estimate(GgufModelTranslator.Translate(Qwen3_30B_A3B()));
        var some = Estimate(Qwen3_30B_A3B(), 1, false, ("ctx_size", "4096"), ("n_cpu_moe", "10"));
        double Mib(Func<CheckpointTensor, bool> which) => tensors.Tensors.Where(which).Sum(t => t.Bytes) / 1048576.0;
        double hostTensors = Mib(t => t.Name.StartsWith("token_embd", StringComparison.Ordinal) || (t.Layer is >= 0 and < 10 && t.Name.Contains("_exps", StringComparison.Ordinal)));
        double firstTenLayers = Mib(t => t.Name.StartsWith("token_embd", StringComparison.Ordinal) || t.Layer is >= 0 and < 10);
        double mapped = Figure(some, "model_buffer_mib.CPU_Mapped");
        Assert.True(mapped > hostTensors + 1, $"mapped {mapped} MiB, host tensors {hostTensors} MiB");
        Assert.InRange(mapped, firstTenLayers - 1, firstTenLayers + 0.1);   // ≤ 32 B of padding per tensor
    }

    [Fact]
    public void Override_tensor_moves_matching_tensors()
    {
        var r = Estimate(Qwen3_30B_A3B(), 1, false, ("ctx_size", "4096"), ("override_tensor", "exps=CPU"));
        Assert.InRange(Figure(r, "model_buffer_mib.CUDA0"), 500, 1500);
        Assert.InRange(Figure(r, "model_buffer_mib.CPU_Mapped"), 15000, 18000);
    }

    [Fact]
    public void Full_offload_compute_buffer_is_the_logits_of_one_ubatch()
    {
        // lcpp: Qwen3-30B-A3B, ubatch 512, flash attention: 296.75 MiB logits + 4 MiB hidden state = 300.75 MiB
        var r = Estimate(Qwen3_30B_A3B(), 1, false, ("ctx_size", "32768"), ("flash_attn", "true"));
        Assert.Equal(300.75, Figure(r, "compute_buffer_mib.CUDA0"), 6);
        // host: f32 KQ mask 32768 × 512 + embeddings 512 × 2048
        Assert.Equal(68.0, Figure(r, "compute_buffer_mib.CUDA_Host"), 6);
    }

    [Fact]
    public void Without_flash_attention_the_kq_scores_dominate()
    {
        var r = Estimate(Qwen3_30B_A3B(), 1, false, ("ctx_size", "16384"), ("flash_attn", "false"));
        Assert.InRange(Figure(r, "compute_buffer_mib.CUDA0"), 1024, 1100);          // 512 × 16384 × 32 × 4 B = 1024 MiB
    }

    [Fact]
    public void Quantized_v_without_flash_attention_falls_back_to_f16_with_a_note()
    {
        var r = Estimate(Llama2_13B(), 1, false, ("ctx_size", "2048"), ("cache_type_v", "q8_0"), ("flash_attn", "false"));
        Assert.Equal(800.0, Figure(r, "v_mib"), 6);
        Assert.Contains(r.Notes, n => n.Contains("flash attention", StringComparison.Ordinal));
    }

    [Fact]
    public void Kv_grows_linearly_with_context()
    {
        double Kv(int ctx) => Figure(Estimate(Glm4_32B(), 1, false, ("ctx_size", ctx.ToString(System.Globalization.CultureInfo.InvariantCulture))), "kv_buffer_mib.CUDA0");
        Assert.Equal(2 * Kv(8192), Kv(16384), 6);
        Assert.Equal(Kv(8192), Kv(8000), 6);                                         // padded to 256
    }

    [Fact]
    public void Every_item_explains_itself_and_the_report_has_a_launch_command()
    {
        var r = Estimate(Qwen3_30B_A3B(), 2, false, ("ctx_size", "8192"), ("tensor_split", "3,1"), ("cache_type_k", "q8_0"));
        Assert.All(r.Devices.SelectMany(d => d.Items), i => Assert.False(string.IsNullOrEmpty(i.Formula) || string.IsNullOrEmpty(i.Origin)));
        Assert.StartsWith("llama-server -m ", r.LaunchCommand, StringComparison.Ordinal);
        Assert.Contains("-c 8192", r.LaunchCommand, StringComparison.Ordinal);
        Assert.Contains("-ts 3,1", r.LaunchCommand, StringComparison.Ordinal);
        Assert.Contains("-ctk q8_0", r.LaunchCommand, StringComparison.Ordinal);
        Assert.Contains(r.Devices, d => d.Device == "CUDA1" && d.Items.Any(i => i.Category == MemoryCategory.Overhead));
    }

    [Theory]
    [InlineData("cache_type_k", "q7_0")]
    [InlineData("split_mode", "diagonal")]
    [InlineData("tensor_split", "1,x")]
    [InlineData("override_tensor", "([=CPU")]
    [InlineData("threads_http", "4")]
    public void Bad_settings_are_named(string key, string value)
    {
        var e = Assert.Throws<InvalidSettingException>(() => Estimate(Llama2_13B(), 1, false, (key, value)));
        Assert.Equal(key, e.Setting);
    }

    [Fact]
    public void Both_variants_are_registered()
    {
        Assert.Equal("llama.cpp", EngineCatalog.Get("llama.cpp").Id);
        Assert.Equal("llama.cpp", EngineCatalog.Get("ollama").Id);
        Assert.Equal("ik_llama.cpp", EngineCatalog.Get("ik_llama.cpp").Id);
    }
}

public class LlamaCppMainGpuTests
{
    [Fact]
    public void Split_mode_none_puts_every_layer_on_the_main_gpu()
    {
        var r = LlamaCppEngineTests.Estimate(Glm4_32B(), 2, false, ("ctx_size", "8192"), ("split_mode", "none"), ("main_gpu", "1"));
        Assert.Equal(488.0, r.PrintedFigures["kv_buffer_mib.CUDA1"], 6);
        Assert.False(r.PrintedFigures.ContainsKey("kv_buffer_mib.CUDA0"));
    }

    [Fact]
    public void Embeddings_add_n_embd_floats_per_output()
    {
        var plain = LlamaCppEngineTests.Estimate(Glm4_32B(), 1, false, ("ctx_size", "4096"));
        var embd = LlamaCppEngineTests.Estimate(Glm4_32B(), 1, false, ("ctx_size", "4096"), ("embeddings", "true"));
        Assert.Equal(6144 * 4 / 1048576.0, embd.PrintedFigures["output_buffer_mib.CUDA_Host"] - plain.PrintedFigures["output_buffer_mib.CUDA_Host"], 9);
    }
}

public class LlamaCppWhatIfFormatTests
{
    private static VramFit.Reports.MemoryReport Estimate(string model, string? quant) =>
        VramFit.Engines.EngineCatalog.Get("llama.cpp").Estimate(new VramFit.Engines.EstimateRequest(
            VramFit.Models.ModelCatalog.Find(model).Describe(),
            new VramFit.Hardware.Deployment(VramFit.Hardware.AcceleratorCatalog.Find("rtx-4090")),
            new VramFit.Engines.Workload { ContextTokens = 4096, WeightFormat = quant is null ? null : VramFit.Numerics.WeightFormat.Parse(quant) },
            VramFit.Engines.EngineSettings.Empty));

    private static long Weights(VramFit.Reports.MemoryReport r) => r.Devices.Sum(d => d.BytesOf(VramFit.Reports.MemoryCategory.Weights));

    [Fact]
    public void Gpt_oss_keeps_its_mxfp4_experts_as_the_MXFP4_MOE_file_type()
    {
        long published = Weights(Estimate("openai/gpt-oss-20b", null));
        Assert.Equal(published, Weights(Estimate("openai/gpt-oss-20b", "mxfp4")));
        // 21 B parameters, ~19 B of them experts at 4.25 bits: between 10 and 13 GiB, far from bf16's 39 GiB
        Assert.InRange(published / (double)(1L << 30), 10, 13);
    }

    [Theory]
    [InlineData("fp8")]
    [InlineData("gptq-int4")]
    [InlineData("nf4")]
    public void Formats_llama_cpp_cannot_load_are_refused_naming_the_ones_it_can(string quant)
    {
        var e = Assert.Throws<VramFit.Errors.InvalidSettingException>(() => Estimate("meta-llama/Llama-3.1-8B", quant));
        Assert.Contains("q4_k", e.Message, StringComparison.Ordinal);
    }
}

public class LlamaCppOutputSequencesTests
{
    private static double OutputMib(bool ik, string? build, params (string, string)[] settings)
    {
        var engine = VramFit.Engines.EngineCatalog.Get(ik ? "ik_llama.cpp" : "llama.cpp");
        var all = settings.Select(s => KeyValuePair.Create(s.Item1, s.Item2)).ToList();
        if (build is not null)
            all.Add(KeyValuePair.Create("build", build));
        var report = engine.Estimate(new VramFit.Engines.EstimateRequest(
            VramFit.Models.ModelCatalog.Find("Qwen/Qwen3-30B-A3B").Describe(),
            new VramFit.Hardware.Deployment(VramFit.Hardware.AcceleratorCatalog.Find("rtx-3090")),
            new VramFit.Engines.Workload { ContextTokens = 4096, WeightFormat = VramFit.Numerics.WeightFormat.Parse("q4_k") },
            new VramFit.Engines.EngineSettings(all)));
        return report.Devices.Sum(d => d.BytesOf(VramFit.Reports.MemoryCategory.Output)) / (double)(1 << 20);
    }

    private const double OneRow = 151936 * 4.0 / (1 << 20);   // Qwen3 vocabulary × f32

    [Fact]
    public void The_ik_llama_cpp_server_reserves_one_more_sequence_than_its_slots()
    {
        Assert.Equal(2 * OneRow, OutputMib(true, "3673", ("binary", "llama-server")), 6);
        Assert.Equal(3 * OneRow, OutputMib(true, "3899", ("binary", "llama-server"), ("parallel", "2")), 6);
        Assert.Equal(OneRow, OutputMib(true, "3673", ("binary", "llama-sweep-bench")), 6);
    }

    [Fact]
    public void Current_mainline_servers_reserve_one_row_per_slot() =>
        Assert.Equal(OneRow, OutputMib(false, "b6699", ("binary", "llama-server")), 6);

    [Fact]
    public void Batched_bench_sizes_for_its_largest_parallel_count() =>
        Assert.Equal(8 * OneRow, OutputMib(true, null, ("binary", "llama-batched-bench"), ("npl", "1,2,4,8")), 6);
}
