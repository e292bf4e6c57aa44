using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VramFit.Engines.Serving;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Tests.Engines.Serving;

public class RankWeightsTests
{
    private static readonly ModelDescription Llama = ServingFixtures.Llama31_8B();

    // Llama-3.1-8B safetensors total_size: 16,060,522,496 B (bf16)
    private const long Llama8BBytes = 16_060_522_496L;

    // 32 layers × 2 RMSNorm vectors + the final norm, 4096 bf16 values each
    private const long LlamaNormBytes = (32 * 2 + 1) * 4096L * 2;

    [Fact]
    public void One_rank_holds_the_whole_checkpoint()
    {
        var w = RankWeights.For(ModelProfile.Create(Llama), new ParallelLayout(), ShardingRules.Vllm);
        Assert.Equal(Llama8BBytes, w.Total);
        Assert.Equal(128256L * 4096 * 2, w.Embedding);
        Assert.Equal(128256L * 4096 * 2, w.OutputHead);
    }

    [Fact]
    public void At_one_rank_the_matrices_count_as_blocks_and_only_norms_as_replicated()
    {
        var w = RankWeights.For(ModelProfile.Create(Llama), new ParallelLayout(), ShardingRules.Vllm);
        Assert.Equal(LlamaNormBytes, w.Replicated);
        Assert.Equal(Llama8BBytes - LlamaNormBytes - 2 * 128256L * 4096 * 2, w.Blocks);
    }

    [Fact]
    public void Custom_all_reduce_runs_on_two_ranks_or_on_NVLink_up_to_eight()
    {
        var pcie = ServingFixtures.Gpu("24GB PCIe GPU", 24576, "PCIe 4.0 x16", "8.6");
        Assert.False(CommunicationBuffers.CustomAllReduce(1, pcie));
        Assert.True(CommunicationBuffers.CustomAllReduce(2, pcie));
        Assert.False(CommunicationBuffers.CustomAllReduce(4, pcie));
        Assert.True(CommunicationBuffers.CustomAllReduce(8, ServingFixtures.H100));
        Assert.False(CommunicationBuffers.CustomAllReduce(3, ServingFixtures.H100));
        Assert.False(CommunicationBuffers.CustomAllReduce(16, ServingFixtures.H100));
        // A100 PCIe cards are bridged in pairs: no full NVLink across four
        Assert.False(CommunicationBuffers.CustomAllReduce(4, ServingFixtures.Gpu("NVIDIA A100 PCIe 80GB", 81920, "NVLink 3 bridge 600 GB/s", "8.0")));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Tensor_parallel_ranks_sum_to_the_whole_plus_replicated_norms(int tp)
    {
        var w = RankWeights.For(ModelProfile.Create(Llama), new ParallelLayout(tp), ShardingRules.Vllm);
        // every rank keeps every norm; everything else (128256 rows divide by 64 × tp) splits exactly
        Assert.Equal(Llama8BBytes + (tp - 1) * LlamaNormBytes, tp * w.Total);
        Assert.Equal(LlamaNormBytes, w.Replicated);
    }

    [Fact]
    public void KV_heads_are_replicated_once_TP_exceeds_them()
    {
        // TP 16 over 8 KV heads: each rank holds 1 KV head (2 ranks per head), 2 query heads
        var profile = ModelProfile.Create(Llama);
        var tp8 = RankWeights.For(profile, new ParallelLayout(8), ShardingRules.Vllm);
        var tp16 = RankWeights.For(profile, new ParallelLayout(16), ShardingRules.Vllm);
        long kvBytesPerRank = 32L * 2 * 4096 * 128 * 2;         // K and V, one head, 32 layers
        long qoPerRank8 = 32L * 2 * 4096 * 512 * 2;             // q and o of 4 heads, 32 layers
        long mlpPerRank8 = 32L * 3 * 4096 * (14336 / 8) * 2;
        Assert.Equal(kvBytesPerRank + qoPerRank8 + mlpPerRank8, tp8.Blocks);
        Assert.Equal(kvBytesPerRank + qoPerRank8 / 2 + mlpPerRank8 / 2, tp16.Blocks);
    }

    [Fact]
    public void Pipeline_stages_split_layers_and_place_embedding_first_and_head_last()
    {
        var profile = ModelProfile.Create(Llama);
        var layout = new ParallelLayout(1, 3);
        var stages = Enumerable.Range(0, 3).Select(s => RankWeights.For(profile, layout, ShardingRules.Vllm, s)).ToArray();
        // get_pp_indices: ⌊32/3⌋ = 10 each, the remainder 2 goes one each to the stages before the last
        Assert.Equal([11, 11, 10], stages.Select(s => s.LayerCount));
        Assert.Equal([0, 11, 22], stages.Select(s => s.FirstLayer));
        Assert.True(stages[0].Embedding > 0 && stages[1].Embedding == 0 && stages[2].Embedding == 0);
        Assert.True(stages[2].OutputHead > 0 && stages[0].OutputHead == 0);
        Assert.Equal(Llama8BBytes, stages.Sum(s => s.Total));
    }

    [Fact]
    public void Tied_embeddings_under_PP_give_the_last_stage_its_own_head()
    {
        var tied = ServingFixtures.Llama32_1B_Fp8Block().WithFormat(null);
        var profile = ModelProfile.Create(tied);
        var one = RankWeights.For(profile, new ParallelLayout(), ShardingRules.Vllm);
        var last = RankWeights.For(profile, new ParallelLayout(1, 2), ShardingRules.Vllm, 1);
        Assert.Equal(0, one.OutputHead);
        Assert.Equal(128256L * 2048 * 2, last.OutputHead);
    }

    [Fact]
    public void Vocab_is_padded_to_64_rows_before_the_split()
    {
        // CodeLlama vocab 32016 → 32064 rows, 16032 per rank at TP 2
        var w = RankWeights.For(ModelProfile.Create(ServingFixtures.CodeLlama13B()), new ParallelLayout(2), ShardingRules.Vllm);
        Assert.Equal(16032L * 5120 * 2, w.Embedding);
    }

    [Fact]
    public void Expert_parallel_splits_experts_and_tensor_parallel_slices_them()
    {
        var model = ServingFixtures.MlaModel(layers: 4);
        var profile = ModelProfile.Create(model);
        var ep = RankWeights.For(profile, new ParallelLayout(8, expertParallel: true), ShardingRules.Vllm);
        var tp = RankWeights.For(profile, new ParallelLayout(8), ShardingRules.Vllm);
        long experts = profile.LayerRoutedExpertBytes.Sum();
        Assert.Equal(experts / 8, ep.RoutedExperts);
        Assert.Equal(experts / 8, tp.RoutedExperts);
        // MLA down-projections (q_a, kv_a) are replicated on every rank
        Assert.True(tp.Replicated > 4L * (7168L * 1536 + 7168L * 576) * 2);
    }

    [Theory]
    [InlineData("gptq-int4")]
    [InlineData("awq-int4")]
    [InlineData("fp8-block")]
    [InlineData("nf4")]
    public void Quantized_checkpoints_shard_close_to_their_whole_over_TP(string format)
    {
        var profile = ModelProfile.Create(Llama, WeightFormat.Parse(format));
        var tp2 = RankWeights.For(profile, new ParallelLayout(2), ShardingRules.Vllm);
        double ratio = 2.0 * tp2.Total / profile.TotalWeightBytes;
        Assert.InRange(ratio, 1.0, 1.01);
        Assert.True(profile.TotalWeightBytes < Llama8BBytes * 0.6);
    }

    [Fact]
    public void Heads_that_do_not_divide_by_TP_are_rejected_with_vLLMs_message()
    {
        var e = Assert.Throws<InvalidSettingException>(() => RankWeights.For(ModelProfile.Create(Llama), new ParallelLayout(3), ShardingRules.Vllm));
        Assert.Contains("Total number of attention heads (32) must be divisible by tensor parallel size (3)", e.Message);
    }

    [Property(MaxTest = 60)]
    public Property Ranks_together_hold_at_least_the_whole_model(PositiveInt tpSeed, PositiveInt ppSeed, bool ep)
    {
        int tp = 1 << (tpSeed.Get % 4);
        int pp = 1 + ppSeed.Get % 4;
        var model = ServingFixtures.GptOss120B();
        var profile = ModelProfile.Create(model);
        var layout = new ParallelLayout(tp, pp, 1, ep);
        long sum = 0;
        for (int stage = 0; stage < pp; stage++)
            sum += tp * RankWeights.For(profile, layout, ShardingRules.Vllm, stage).Total;
        return (sum >= profile.TotalWeightBytes).ToProperty().Label($"tp {tp} pp {pp} ep {ep}: {sum} < {profile.TotalWeightBytes}");
    }
}
