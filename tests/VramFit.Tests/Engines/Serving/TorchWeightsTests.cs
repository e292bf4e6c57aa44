using VramFit.Engines.Serving;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Tests.Engines.Serving;

/// <summary>
/// The weight memory vLLM prints ("Model loading took X GiB", torch.cuda.memory_allocated()) is the tensors plus
/// the rotary table plus the caching allocator's rounding; these figures come from real logs of the public cases.
/// </summary>
public class TorchWeightsTests
{
    private const double GiB = 1L << 30;

    [Theory]
    // vllm-qwen2-7b-a100-80g-tp1-util025 (vLLM 0.10.1.1): "Model loading took 14.2488 GiB"
    [InlineData("qwen2-7b", 1, 14.2488)]
    // vllm-qwen2-7b-2xa100-80g-tp2-util025: 7.1217 GiB per rank
    [InlineData("qwen2-7b", 2, 7.1217)]
    // vllm-r1-distill-qwen-14b-2x4090-tp2-util098 (vLLM 0.7): "Model loading took 13.9476 GB" (GiB)
    [InlineData("r1-14b", 2, 13.9476)]
    public void Allocated_weights_match_what_vLLM_printed_to_the_MiB(string model, int tp, double printedGiB)
    {
        var description = model == "qwen2-7b" ? ServingFixtures.Qwen2_7B() : ServingFixtures.R1DistillQwen14B();
        var w = TorchWeights.For(ModelProfile.Create(description), new ParallelLayout(tp), ShardingRules.Vllm, 0, 2);
        // the printed figure has four decimals: ±0.05 MiB; allow 1 MiB
        Assert.InRange(w.AllocatedBytes / GiB, printedGiB - 1.0 / 1024, printedGiB + 1.0 / 1024);
    }

    [Fact]
    public void Rounding_is_what_the_segments_add_to_each_merged_parameter()
    {
        // R1-Distill-Qwen-14B at TP 2, per layer: qkv 35 MiB → 36, o_proj 25 → 26, gate_up 135 → 136, down 67.5 → 68
        // (every tail ≤ 1 MiB stays in its block): 3.5 MiB × 48 layers. Embedding and LM head (742.5 MiB) leave a
        // 1.5 MiB tail that is split off; norms (10 KiB) and q/k/v biases (7 KiB) are multiples of 512 B. The rotary
        // table's fp32 temporaries (cos, sin: 32 MiB, their concatenation: 64 MiB) stay cached after layer 0, and
        // layer 1's qkv (in the 64 MiB block), layer 1's o_proj (in its 29 MiB remainder) and layers 2 and 3's o_proj
        // (in the 32 MiB blocks) are split from them instead of rounding up: 4 MiB less.
        var profile = ModelProfile.Create(ServingFixtures.R1DistillQwen14B());
        var w = TorchWeights.For(profile, new ParallelLayout(2), ShardingRules.Vllm, 0, 2);
        Assert.Equal(48 * 7L * (1L << 19) - (4L << 20), w.RoundingBytes);
        // the rotary table: 131072 positions × 128 dims × bf16
        Assert.Equal(131072L * 128 * 2, w.RotaryCacheBytes);
        Assert.Equal(RankWeights.For(profile, new ParallelLayout(2), ShardingRules.Vllm).Total, w.ParameterBytes);
    }

    [Fact]
    public void Segments_reserved_add_the_split_off_tails_and_the_small_pool()
    {
        // QwQ-32B at TP 4 (without its rotary table): o_proj (12.5 MiB) gets a 14 MiB segment whose 1.5 MiB tail is split off and never reused
        // (64 layers); the norms and biases (1,550,336 B) share one 2 MiB small-pool segment
        var model = ServingFixtures.QwQ32B();
        var noRope = new ModelDescription(model.Architecture, model.HiddenSize, model.VocabSize,
            model.Layers.Select(l => l with { Attention = l.Attention with { RotaryDims = 0 } }), maxContext: model.MaxContext, name: model.Name);
        var w = TorchWeights.For(ModelProfile.Create(noRope), new ParallelLayout(4), ShardingRules.Vllm, 0, 2);
        long small = 129L * 5120 * 2 + 64L * (1280 + 256 + 256) * 2;
        Assert.Equal(64 * 3L * (1L << 19) + (2L << 20) - small, w.ReservedBytes - w.AllocatedBytes);
    }

    [Fact]
    public void Quantized_parameters_allocate_packed_values_and_scales_separately()
    {
        var gptq = new WeightFormat { Kind = WeightFormatKind.Gptq, Name = "gptq-int4", Bits = 4, GroupSize = 128 };
        var profile = ModelProfile.Create(ServingFixtures.Qwen2_7B().WithFormat(gptq), gptq);
        var w = TorchWeights.For(profile, new ParallelLayout(), ShardingRules.Vllm, 0, 2);
        Assert.Equal(RankWeights.For(profile, new ParallelLayout(), ShardingRules.Vllm).Total, w.ParameterBytes);
        // two allocations per merged linear parameter cannot round by more than 2 MiB + 1 KiB each
        Assert.InRange(w.RoundingBytes, 0, w.Allocations * ((2L << 20) + 1024));
    }


    [Fact]
    public void Gemma3_keeps_a_local_and_a_stretched_global_rotary_table()
    {
        // local layers: 131,072 positions × 128 dims; global layers (linear ×8): 1,048,576 × 128; bf16
        var w = TorchWeights.For(ModelProfile.Create(ModelCatalog.Find("google/gemma-3-27b-it").Describe()), new ParallelLayout(), ShardingRules.Vllm, 0, 2);
        Assert.Equal((131_072L + 1_048_576L) * 128 * 2, w.RotaryCacheBytes);
    }
}
