using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Tests.Engines.Serving;

/// <summary>
/// Models and GPUs of the public serving cases, built by hand from the published config.json files
/// (Hugging Face model pages) and the memory totals the logs print, so these tests need no catalog.
/// </summary>
internal static class ServingFixtures
{
    public static LayerSpec Dense(int heads, int kvHeads, int headDim, int ffn, bool qkvBias = false, AttentionKind kind = AttentionKind.Full, int window = 0, QkNormKind qkNorm = QkNormKind.None, bool fused = false) => new()
    {
        // every model here rotates whole heads with RoPE (their config.json has no partial_rotary_factor)
        Attention = new AttentionSpec { Kind = kind, HeadCount = heads, KvHeadCount = kvHeads, KeyHeadDim = headDim, ValueHeadDim = headDim, QkvBias = qkvBias, SlidingWindow = window, QkNorm = qkNorm, FusedQkv = fused, RotaryDims = headDim, RotaryBase = 10000 },
        Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = ffn },
    };

    private static ModelDescription Uniform(string arch, string name, int hidden, int vocab, int layers, LayerSpec layer, int maxContext, bool tied = false, ScalarType dtype = ScalarType.BF16, WeightFormat? format = null) =>
        new(arch, hidden, vocab, Enumerable.Repeat(layer, layers), tiedEmbeddings: tied, maxContext: maxContext, dtype: dtype, checkpointFormat: format, name: name);

    /// <summary>meta-llama/Llama-3.1-8B: 32 layers, 32 heads, 8 KV heads, head_dim 128, MLP 14336, vocab 128256.</summary>
    public static ModelDescription Llama31_8B(int maxContext = 131072, string name = "meta-llama/Llama-3.1-8B") =>
        Uniform("llama", name, 4096, 128256, 32, Dense(32, 8, 128, 14336), maxContext);

    /// <summary>Qwen/Qwen2-7B-Instruct: 28 layers, 28 heads, 4 KV heads, QKV bias, MLP 18944, vocab 152064.</summary>
    public static ModelDescription Qwen2_7B() =>
        Uniform("qwen2", "Qwen/Qwen2-7B-Instruct", 3584, 152064, 28, Dense(28, 4, 128, 18944, qkvBias: true), 32768);

    /// <summary>deepseek-ai/DeepSeek-R1-Distill-Qwen-14B (Qwen2.5-14B): 48 layers, 40/8 heads, MLP 13824.</summary>
    public static ModelDescription R1DistillQwen14B() =>
        Uniform("qwen2", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", 5120, 152064, 48, Dense(40, 8, 128, 13824, qkvBias: true), 131072);

    /// <summary>Qwen/QwQ-32B: 64 layers, 40/8 heads, MLP 27648, vocab 152064, max_position_embeddings 40960.</summary>
    public static ModelDescription QwQ32B() =>
        Uniform("qwen2", "Qwen/QwQ-32B", 5120, 152064, 64, Dense(40, 8, 128, 27648, qkvBias: true), 40960);

    /// <summary>TheBloke/CodeLlama-13B-Instruct-fp16: 40 layers, 40 heads (no GQA), MLP 13824, vocab 32016, fp16.</summary>
    public static ModelDescription CodeLlama13B() =>
        Uniform("llama", "TheBloke/CodeLlama-13B-Instruct-fp16", 5120, 32016, 40, Dense(40, 40, 128, 13824), 16384, dtype: ScalarType.F16);

    /// <summary>kaitchup/Phi-4-AutoRound-GPTQ-4bit: Phi-3 layout (fused QKV), 40 layers, 40/10 heads, MLP 17920, vocab 100352.</summary>
    public static ModelDescription Phi4Gptq() =>
        Uniform("phi3", "kaitchup/Phi-4-AutoRound-GPTQ-4bit", 5120, 100352, 40, Dense(40, 10, 128, 17920, fused: true), 16384,
            dtype: ScalarType.F16, format: WeightFormat.Parse("gptq-int4-g128"));

    /// <summary>unsloth/Llama-3.2-1B-Instruct-FP8-Block: 16 layers, 32/8 heads, head_dim 64, MLP 8192, tied, FP8 128×128 blocks.</summary>
    public static ModelDescription Llama32_1B_Fp8Block() =>
        Uniform("llama", "unsloth/Llama-3.2-1B-Instruct-FP8-Block", 2048, 128256, 16, Dense(32, 8, 64, 8192), 131072, tied: true,
            format: WeightFormat.Parse("fp8-block"));

    /// <summary>unsloth/Qwen3-8B-FP8: 36 layers, 32/8 heads, head_dim 128, QK norm, MLP 12288, vocab 151936, FP8 128×128 blocks.</summary>
    public static ModelDescription Qwen3_8B_Fp8() =>
        Uniform("qwen3", "unsloth/Qwen3-8B-FP8", 4096, 151936, 36, Dense(32, 8, 128, 12288, qkNorm: QkNormKind.PerHead), 40960,
            format: WeightFormat.Parse("fp8-block"));

    /// <summary>The language model of Qwen2.5-VL-7B-Instruct (vision tower not described), bitsandbytes NF4.</summary>
    public static ModelDescription Qwen25VL7B_Bnb() =>
        Uniform("qwen2_5_vl", "unsloth/qwen2.5-vl-7b-instruct-unsloth-bnb-4bit", 3584, 152064, 28, Dense(28, 4, 128, 18944, qkvBias: true), 128000,
            dtype: ScalarType.F16, format: WeightFormat.Parse("nf4"));

    /// <summary>openai/gpt-oss-120b: 36 layers alternating sliding (128) and full attention, 64/8 heads of 64,
    /// 128 experts top-4 of 2880 with biases, attention sinks, MXFP4 experts.</summary>
    public static ModelDescription GptOss120B()
    {
        var layers = Enumerable.Range(0, 36).Select(i => new LayerSpec
        {
            Attention = new AttentionSpec
            {
                Kind = i % 2 == 0 ? AttentionKind.SlidingWindow : AttentionKind.Full, SlidingWindow = i % 2 == 0 ? 128 : 0,
                HeadCount = 64, KvHeadCount = 8, KeyHeadDim = 64, ValueHeadDim = 64, QkvBias = true, OutputBias = true, Sinks = true,
            },
            Mlp = new MlpSpec { Kind = MlpKind.MoE, ExpertCount = 128, ActiveExpertCount = 4, ExpertFfnSize = 2880, Bias = true, RouterBias = true },
        });
        return new ModelDescription("gpt_oss", 2880, 201088, layers, maxContext: 131072, name: "openai/gpt-oss-120b",
            checkpointFormat: WeightFormat.Parse("mxfp4") with { ExpertsOnly = true });
    }

    /// <summary>deepseek-ai/DeepSeek-V3-like MLA stack (61 layers, 128 heads, kv_lora_rank 512, rope 64).</summary>
    public static ModelDescription MlaModel(int layers = 61) => new("deepseek_v3", 7168, 129280,
        Enumerable.Repeat(new LayerSpec
        {
            Attention = new AttentionSpec
            {
                Kind = AttentionKind.Mla, HeadCount = 128,
                Mla = new MlaSpec { QLoraRank = 1536, KvLoraRank = 512, QkNopHeadDim = 128, QkRopeHeadDim = 64, VHeadDim = 128 },
            },
            Mlp = new MlpSpec { Kind = MlpKind.MoE, ExpertCount = 256, ActiveExpertCount = 8, ExpertFfnSize = 2048, SharedExpertCount = 1, SharedExpertFfnSize = 2048 },
        }, layers), maxContext: 163840, name: "deepseek-ai/DeepSeek-V3");

    public static Accelerator Gpu(string name, double totalMib, string? interconnect = null, string? cc = null) => new()
    {
        Id = name.ToLowerInvariant().Replace(' ', '-'),
        Name = name,
        Vendor = AcceleratorVendor.Nvidia,
        MemoryBytes = (long)(totalMib * (1 << 20)),
        MemoryBandwidthGBps = 1000,
        Interconnect = interconnect,
        ComputeCapability = cc,
    };

    /// <summary>H100 80GB as vLLM logs it (total_gpu_memory 79.25 GiB).</summary>
    public static Accelerator H100 => Gpu("NVIDIA H100 80GB HBM3", 81152, "NVLink 4", "9.0");

    /// <summary>H100 of the PR #10511 logs (total_gpu_memory 79.22 GiB).</summary>
    public static Accelerator H100Pr10511 => Gpu("NVIDIA H100 80GB HBM3", 81121, "NVLink 4", "9.0");

    /// <summary>A100 80GB (torch total_memory 79.25 GiB like the H100 class), NVLink 3.</summary>
    public static Accelerator A100_80 => Gpu("NVIDIA A100 80GB", 81152, "NVLink 3", "8.0");

    /// <summary>L4 as Unsloth prints it ("Max memory 22.161 GB" = total_memory / 2^30).</summary>
    public static Accelerator L4 => Gpu("NVIDIA L4", 22693, "PCIe 4.0 x16", "8.9");

    public static Accelerator T4 => Gpu("Tesla T4", 15094, "PCIe 3.0 x16", "7.5");

    /// <summary>RTX 4090: torch total_memory 23.65 GiB (24217 MiB), PCIe only.</summary>
    public static Accelerator Rtx4090 => Gpu("NVIDIA GeForce RTX 4090", 24217, "PCIe 4.0 x16", "8.9");
}
