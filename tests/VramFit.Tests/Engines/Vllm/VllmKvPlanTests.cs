using VramFit.Engines.Serving;
using VramFit.Engines.Vllm;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.Vllm;

public class VllmKvPlanTests
{
    private const long GiB = 1L << 30;

    private static KvLayerSpec[] Layers(ModelDescription m, int tp, string kvDtype = "auto") =>
        KvLayerSpec.ForStage(m, tp, KvCacheDtype.Parse(kvDtype, m.Dtype), 0, m.RepeatingLayerCount, 2);

    [Fact]
    public void Llama_3_1_8B_TP1_by_hand()
    {
        // page per layer = 2 (K, V) × 16 tokens × 8 KV heads × 128 × 2 B = 65,536 B; 32 layers → 2 MiB per block
        var layers = Layers(ServingFixtures.Llama31_8B(), 1);
        Assert.All(layers, l => Assert.Equal(2 * 8 * 128 * 2, l.BytesPerToken));
        var plan = VllmKvPlan.Plan(layers, 10 * GiB, 16, 8192, 2048, v1: true);
        Assert.Equal(65536, plan.Groups.Single().PageBytes);
        Assert.Equal(10 * GiB / (2L << 20), plan.NumBlocks);          // 5120 blocks
        Assert.Equal(5120 * 16, plan.Tokens);                          // 81,920 tokens
        Assert.Equal(10.0, plan.MaxConcurrency, 6);                    // 81,920 / 8192
        Assert.Null(plan.Error);
    }

    [Fact]
    public void Llama_3_1_8B_TP2_halves_the_page_and_doubles_the_blocks()
    {
        var plan = VllmKvPlan.Plan(Layers(ServingFixtures.Llama31_8B(), 2), 10 * GiB, 16, 8192, 2048, v1: true);
        Assert.Equal(32768, plan.Groups.Single().PageBytes);
        Assert.Equal(10240, plan.NumBlocks);
        Assert.Equal(20.0, plan.MaxConcurrency, 6);
    }

    [Theory]
    [InlineData("auto", 65536)]
    [InlineData("fp8", 32768)]
    [InlineData("fp8_e5m2", 32768)]
    [InlineData("fp8_e4m3", 32768)]
    public void KV_dtypes_set_the_page_size(string dtype, long page)
    {
        var plan = VllmKvPlan.Plan(Layers(ServingFixtures.Llama31_8B(), 1, dtype), 10 * GiB, 16, 8192, 2048, v1: true);
        Assert.Equal(page, plan.Groups.Single().PageBytes);
    }

    [Theory]
    [InlineData("auto", 16 * 576 * 2)]     // bf16 latent: (512 + 64) × 2 B per token
    [InlineData("fp8", 16 * 576)]
    [InlineData("fp8_ds_mla", 16 * 656)]   // 512 fp8 + 4 fp32 scales + 64 bf16 RoPE values
    public void MLA_pages_hold_the_latent_unsplit_by_TP(string dtype, long page)
    {
        var model = ServingFixtures.MlaModel();
        foreach (int tp in new[] { 1, 8 })
        {
            var plan = VllmKvPlan.Plan(Layers(model, tp, dtype), 10 * GiB, 16, 8192, 2048, v1: true);
            Assert.Equal(page, plan.Groups.Single().PageBytes);
            Assert.Equal(10 * GiB / (page * 61), plan.NumBlocks);
        }
    }

    [Fact]
    public void Gpt_oss_sliding_and_full_layers_form_two_groups_of_18()
    {
        // gpt-oss-120b TP4: 2 KV heads × 64 × 2 (K, V) × 2 B × 16 = 8192 B per page
        var layers = Layers(ServingFixtures.GptOss120B(), 4);
        long page = 8192, available = 330_018L * page * 18;
        var plan = VllmKvPlan.Plan(layers, available, 16, 16384, 2048, v1: true);
        Assert.Equal(2, plan.Groups.Count);
        Assert.Equal(18, plan.GroupSize);
        Assert.Equal(330_018, plan.NumBlocks);
        Assert.Equal(330_018 / 2 * 16, plan.Tokens);                  // "GPU KV cache size: 2,640,144 tokens"
        // full: cdiv(16384, 16) = 1024 blocks; sliding: cdiv(min(128 − 1 + 2048, 16384), 16) + 1 = 137
        Assert.Equal(330_018 / 1161.0, plan.MaxConcurrency, 6);         // 284.25 as logged
    }

    [Fact]
    public void Five_to_one_interleaving_groups_by_the_rarer_type()
    {
        // Gemma-3-27B-like: 62 layers, every 6th full attention (10), the rest sliding (52)
        var layers = Enumerable.Range(0, 62).Select(i => (i + 1) % 6 == 0
            ? ServingFixtures.Dense(32, 16, 128, 21504)
            : ServingFixtures.Dense(32, 16, 128, 21504, kind: AttentionKind.SlidingWindow, window: 1024));
        var model = new ModelDescription("gemma3", 5376, 262208, layers, maxContext: 131072);
        var plan = VllmKvPlan.Plan(Layers(model, 1), 20 * GiB, 16, 32768, 2048, v1: true);
        Assert.Equal(10, plan.GroupSize);
        Assert.Equal(7, plan.Groups.Count);                             // 6 sliding groups (the last padded) + 1 full
        Assert.Equal(20 * GiB / (plan.Groups[0].PageBytes * 10), plan.NumBlocks);
        Assert.Equal(plan.NumBlocks / 7 * 16, plan.Tokens);
    }

    [Fact]
    public void Max_model_len_that_does_not_fit_gives_vLLMs_error_and_its_suggestion()
    {
        // 131,072 B per token (32 layers × 4096 B): 1 GiB holds exactly 8192 tokens
        var plan = VllmKvPlan.Plan(Layers(ServingFixtures.Llama31_8B(), 1), 1 * GiB, 16, 131072, 2048, v1: true);
        Assert.Equal(8192, plan.EstimatedMaxModelLen);
        Assert.NotNull(plan.Error);
        Assert.Contains("max seq len (131072)", plan.Error);
        Assert.Contains("16.00 GiB KV cache is needed", plan.Error);
        Assert.Contains("the estimated maximum model length is 8192", plan.Error);
    }

    [Fact]
    public void V0_pages_all_layers_in_one_block_and_checks_tokens_against_max_model_len()
    {
        var plan = VllmKvPlan.Plan(Layers(ServingFixtures.Llama31_8B(), 1), 1 * GiB, 16, 131072, 2048, v1: false);
        Assert.Equal(512, plan.NumBlocks);                              // 1 GiB / (16 × 131,072 B)
        Assert.Equal(8192.0 / 131072, plan.MaxConcurrency, 9);
        Assert.Contains("larger than the maximum number of tokens that can be stored in KV cache (8192)", plan.Error);
    }

    [Fact]
    public void Mamba_hybrids_grow_the_attention_block_to_the_state_page()
    {
        // Mamba-2 layer state: conv (4−1)×(8192 + 2×1×128) + ssm 128×8192 elements, 2 B each, TP 1
        var mamba = new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Recurrent, Recurrent = new RecurrentSpec { Kind = RecurrentKind.Mamba2, InnerSize = 8192, StateSize = 128, ConvKernel = 4, HeadCount = 128 } },
            Mlp = MlpSpec.NoMlp,
        };
        var attn = ServingFixtures.Dense(32, 8, 128, 14336);
        var model = new ModelDescription("nemotron_h", 4096, 131072, Enumerable.Range(0, 8).Select(i => i == 3 || i == 7 ? attn : mamba), maxContext: 8192);
        var plan = VllmKvPlan.Plan(Layers(model, 1), 4 * GiB, 16, 8192, 2048, v1: true);
        long state = (3L * (8192 + 256) + 128L * 8192) * 2;
        long perToken = 2 * 8 * 128 * 2;
        long attnBlock = 16 * ((state + 16 * perToken - 1) / (16 * perToken));
        var full = plan.Groups.First(g => g.Kind == KvLayerKind.FullAttention);
        Assert.Equal(attnBlock, full.BlockSize);
        Assert.Equal(attnBlock * perToken, full.PageBytes);
        Assert.True(full.PageBytes >= state);
    }
}
