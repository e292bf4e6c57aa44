using System.Collections.Immutable;
using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufMetadataFixtures;

namespace VramFit.Tests.Engines.LlamaCpp;

/// <summary>Compute buffers and buffer names against figures printed by real runs (shared/validation/cases-public.jsonl).</summary>
public class LlamaCppPrintedBuffersTests
{
    private static MemoryReport Run(GgufMetadata meta, Accelerator gpu, int gpus, params (string, string)[] settings) =>
        new LlamaCppEngine().Estimate(new EstimateRequest(GgufModelTranslator.Translate(meta), new Deployment(gpu, gpus), new Workload(),
            new EngineSettings(settings.Select(s => new KeyValuePair<string, string>(s.Item1, s.Item2)))));

    private static readonly Accelerator Arc = new() { Id = "arc-a770", Name = "Intel Arc A770", Vendor = AcceleratorVendor.Intel, MemoryBytes = 16L << 30, MemoryBandwidthGBps = 560 };
    private static readonly Accelerator M3 = new() { Id = "m3-max", Name = "Apple M3 Max", Vendor = AcceleratorVendor.Apple, MemoryBytes = 64L << 30, MemoryBandwidthGBps = 400, UnifiedMemory = true };
    private static readonly Accelerator Rtx = new() { Id = "rtx-3090", Name = "RTX 3090", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 24L << 30, MemoryBandwidthGBps = 936 };

    [Fact]
    public void Mistral_7B_on_sycl_without_flash_attention()
    {
        // ipexllm-lcpp-mistral-7b-v0.1-q4km-sycl-a770-ctx1024: SYCL0 compute 164.01, SYCL_Host 20.01, KV 128 MiB
        var meta = Meta("llama", (".block_count", 32), (".embedding_length", 4096), (".feed_forward_length", 14336), (".attention.head_count", 32),
            (".attention.head_count_kv", 8), ("tokenizer.vocab_size", 32000), ("general.file_type_name", "Q4_K_M"));
        var r = Run(meta, Arc, 1, ("ctx_size", "1024"), ("batch_size", "1024"), ("ubatch_size", "1024"), ("flash_attn", "false"));
        Assert.Equal(164.0, r.PrintedFigures["compute_buffer_mib.SYCL0"], 1);
        Assert.Equal(20.0, r.PrintedFigures["compute_buffer_mib.SYCL_Host"], 1);
        Assert.Equal(128.0, r.PrintedFigures["kv_buffer_mib.SYCL0"], 6);
        Assert.Equal(70.3125, r.PrintedFigures["model_buffer_mib.CPU_Mapped"], 3);   // token_embd q4_K 32000 × 4096
    }

    [Fact]
    public void StarCoder_on_metal_names_buffers_like_metal()
    {
        // lcpp-starcoder-15b-q5km-metal-m3max-ctx2048 (mid-2024 build): Metal compute 220, CPU 28.01, CPU model 390
        var meta = Meta("starcoder", (".block_count", 40), (".context_length", 8192), (".embedding_length", 6144), (".feed_forward_length", 24576),
            (".attention.head_count", 48), (".attention.head_count_kv", 1), ("tokenizer.vocab_size", 49152), ("general.file_type_name", "Q5_K_M"));
        var r = Run(meta, M3, 1, ("ctx_size", "2048"), ("ubatch_size", "512"), ("flash_attn", "false"), ("n_gpu_layers", "41"), ("build", "~mid 2024"));
        Assert.Equal(220.0, r.PrintedFigures["compute_buffer_mib.Metal"], 1);
        Assert.Equal(28.0, r.PrintedFigures["compute_buffer_mib.CPU"], 1);
        Assert.Equal(40.0, r.PrintedFigures["kv_buffer_mib.Metal"], 6);
        Assert.Equal(390.0, r.PrintedFigures["model_buffer_mib.CPU"], 1);            // q5_K token_embd + f32 positions
        Assert.DoesNotContain(r.Devices.SelectMany(d => d.Items), i => i.Category == MemoryCategory.Overhead);
    }

    [Fact]
    public void Row_split_keeps_layers_on_the_main_gpu_and_matrices_in_the_split_buffer()
    {
        var r = Run(Glm4_32B(), Rtx, 4, ("ctx_size", "8192"), ("split_mode", "row"));
        Assert.True(r.PrintedFigures["model_buffer_mib.CUDA_Split"] > 15000);
        Assert.InRange(r.PrintedFigures["model_buffer_mib.CUDA0"], 725, 745);         // norms + the q6_K output head (not row-split)
        Assert.Equal(488.0, r.PrintedFigures["kv_buffer_mib.CUDA0"], 6);              // all 61 layers on the main GPU
        Assert.False(r.PrintedFigures.ContainsKey("kv_buffer_mib.CUDA1"));
        var shares = r.Accelerators.Select(d => d.Items.Where(i => i.Category == MemoryCategory.Weights).Sum(i => i.Bytes)).ToArray();
        Assert.True(shares[1] > 3L << 30 && shares[3] > 3L << 30);
    }

    [Fact]
    public void Memory_breakdown_sums_model_context_and_compute_per_device()
    {
        var r = Run(Qwen3_30B_A3B(), Rtx, 1, ("ctx_size", "4096"), ("n_cpu_moe", "8"));
        double gpuModel = r.PrintedFigures["model_buffer_mib.CUDA0"];
        Assert.Equal(gpuModel, r.PrintedFigures["memory_breakdown_mib.CUDA0.model"], 6);
        Assert.Equal(r.PrintedFigures["kv_buffer_mib.CUDA0"], r.PrintedFigures["memory_breakdown_mib.CUDA0.context"], 6);
        Assert.Equal(r.PrintedFigures["model_buffer_mib.CPU_Mapped"], r.PrintedFigures["memory_breakdown_mib.Host.model"], 6);
        Assert.Equal(r.PrintedFigures["compute_buffer_mib.CUDA_Host"], r.PrintedFigures["memory_breakdown_mib.Host.compute"], 6);
    }

    [Fact]
    public void Recurrent_layers_get_a_constant_state_per_sequence()
    {
        // a Mamba-2 style hybrid: 2 attention layers, 2 recurrent layers (d_inner 4096, d_state 128, 8 groups, conv 4)
        var attention = new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Full, HeadCount = 32, KvHeadCount = 8, KeyHeadDim = 128, ValueHeadDim = 128 },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 8192 },
        };
        var mamba = new LayerSpec
        {
            Attention = new AttentionSpec
            {
                Kind = AttentionKind.Recurrent,
                Recurrent = new RecurrentSpec { Kind = RecurrentKind.Mamba2, InnerSize = 4096, StateSize = 128, ConvKernel = 4, GroupCount = 8, HeadCount = 64 },
            },
            Mlp = MlpSpec.NoMlp,
        };
        var model = new ModelDescription("nemotron_h", 2048, 32000, [mamba, attention, mamba, attention]);
        MemoryReport At(int parallel) => new LlamaCppEngine().Estimate(new EstimateRequest(model, new Deployment(Rtx), new Workload(),
            new EngineSettings([new("ctx_size", "4096"), new("parallel", parallel.ToString(System.Globalization.CultureInfo.InvariantCulture))])));
        // per layer: r = 3 × (4096 + 2·8·128) = 18432, s = 128 × 4096 = 524288 f32 values per sequence
        double perSeq = 2 * (18432 + 524288) * 4 / 1048576.0;
        Assert.Equal(perSeq, At(1).PrintedFigures["rs_buffer_mib.CUDA0"], 6);
        Assert.Equal(4 * perSeq, At(4).PrintedFigures["rs_buffer_mib.CUDA0"], 6);
        Assert.Equal(2 * 4096 * 2 * 1024 * 2 / 1048576.0, At(1).PrintedFigures["kv_buffer_mib.CUDA0"], 6);
    }

    [Theory]
    [InlineData("b5622 (97340b4c)", false, 5622)]
    [InlineData("~2025-03 (build not printed)", false, 5020)]
    [InlineData("3673 (4084ca73)", true, 3673)]
    [InlineData(null, false, LlamaCppVersion.Current)]
    public void Versions_parse_from_logs_and_dates(string? text, bool ik, int build)
    {
        var v = LlamaCppVersion.Parse(text, ik);
        Assert.Equal((ik, build), (v.IkLlama, v.Build));
    }

    [Fact]
    public void Feature_switches_follow_the_build()
    {
        Assert.False(LlamaCppVersion.Parse("~2025-03", false).SeparateSwaCache);
        Assert.True(LlamaCppVersion.Parse("b6699", false).SeparateSwaCache);
        Assert.False(LlamaCppVersion.Parse("3902", true).SeparateSwaCache);
        Assert.True(LlamaCppVersion.Parse("b8211", false).VlessMla);
        Assert.False(LlamaCppVersion.Parse("b3000", false).OutputCountsAsLayer);
        // PR #18148 (2025-12-17) made the output layer the first to offload
        Assert.False(LlamaCppVersion.Parse("b6895", false).OutputCountsAsLayer);
        Assert.True(LlamaCppVersion.Parse("b7571", false).OutputCountsAsLayer);
        Assert.True(LlamaCppVersion.Parse(null, false).OutputCountsAsLayer);
    }
}
