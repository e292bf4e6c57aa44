using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufMetadataFixtures;

namespace VramFit.Tests.Sources.Gguf;

public class GgufModelTranslatorTests
{
    [Fact]
    public void Llama_defaults_head_dims_to_hidden_over_heads_and_keeps_the_file_type()
    {
        var m = GgufModelTranslator.Translate(Llama2_13B());
        Assert.Equal(40, m.Layers.Length);
        Assert.All(m.Layers, l => Assert.Equal((40, 128, 128), (l.Attention.KvHeadCount, l.Attention.KeyHeadDim, l.Attention.ValueHeadDim)));
        Assert.Equal("Q8_0", m.CheckpointFormat!.Name);
        Assert.Equal(13_015_864_320L, TensorInventory.ParameterCount(m));    // llama-2-13b: 13.02 B as printed
    }

    [Fact]
    public void Qwen3_moe_layers_are_experts_with_per_head_qk_norm()
    {
        var m = GgufModelTranslator.Translate(Qwen3_30B_A3B());
        Assert.All(m.Layers, l => Assert.Equal((MlpKind.MoE, 128, 8, 768), (l.Mlp.Kind, l.Mlp.ExpertCount, l.Mlp.ActiveExpertCount, l.Mlp.ExpertFfnSize)));
        Assert.Equal(QkNormKind.PerHead, m.Layers[0].Attention.QkNorm);
        // published: 30.5 B parameters
        Assert.InRange(TensorInventory.ParameterCount(m), 30_400_000_000L, 30_600_000_000L);
    }

    [Fact]
    public void Gemma3_falls_back_to_five_local_layers_per_global_one()
    {
        var m = GgufModelTranslator.Translate(Gemma3_27B());
        var global = Enumerable.Range(0, 62).Where(i => m.Layers[i].Attention.Kind == AttentionKind.Full).ToArray();
        Assert.Equal([5, 11, 17, 23, 29, 35, 41, 47, 53, 59], global);
        Assert.Equal(1024, m.Layers[0].Attention.SlidingWindow);
        Assert.True(m.TiedEmbeddings);
        Assert.Equal(4, m.Layers[0].NormCount);
    }

    [Fact]
    public void Gpt_oss_alternates_sliding_and_full_layers_and_has_sinks()
    {
        var m = GgufModelTranslator.Translate(GptOss_20B());
        Assert.Equal(AttentionKind.SlidingWindow, m.Layers[0].Attention.Kind);
        Assert.Equal(AttentionKind.Full, m.Layers[1].Attention.Kind);
        Assert.True(m.Layers[0].Attention.Sinks);
        Assert.True(m.Layers[0].Mlp.RouterBias);
    }

    [Fact]
    public void A_per_layer_sliding_window_pattern_array_wins_over_the_period()
    {
        var meta = Meta("gemma3", (".block_count", 4), (".embedding_length", 1152), (".feed_forward_length", 6912),
            (".attention.head_count", 4), (".attention.head_count_kv", 1), (".attention.key_length", 256), (".attention.sliding_window", 512),
            (".attention.sliding_window_pattern", new GgufArray("bool", [true, false, true, false])), ("tokenizer.vocab_size", 262144));
        var m = GgufModelTranslator.Translate(meta);
        Assert.Equal([AttentionKind.SlidingWindow, AttentionKind.Full, AttentionKind.SlidingWindow, AttentionKind.Full], m.Layers.Select(l => l.Attention.Kind));
    }

    [Fact]
    public void Per_layer_head_count_kv_arrays_are_honoured()
    {
        var meta = Meta("llama", (".block_count", 3), (".embedding_length", 1024), (".feed_forward_length", 4096),
            (".attention.head_count", 16), (".attention.head_count_kv", Ints(8, 4, 2)), ("tokenizer.vocab_size", 1000));
        var m = GgufModelTranslator.Translate(meta);
        Assert.Equal([8, 4, 2], m.Layers.Select(l => l.Attention.KvHeadCount));
    }

    [Fact]
    public void DeepSeek_old_layout_keeps_the_mha_shapes_and_three_dense_layers()
    {
        var m = GgufModelTranslator.Translate(DeepSeekV3());
        Assert.All(m.Layers, l => Assert.Equal(AttentionKind.Mla, l.Attention.Kind));
        Assert.Equal((128, 192), (m.Layers[0].Attention.KvHeadCount, m.Layers[0].Attention.KeyHeadDim));
        Assert.Equal(new MlaSpec { QLoraRank = 1536, KvLoraRank = 512, QkNopHeadDim = 128, QkRopeHeadDim = 64, VHeadDim = 128 }, m.Layers[0].Attention.Mla);
        Assert.Equal([MlpKind.Dense, MlpKind.Dense, MlpKind.Dense, MlpKind.MoE], m.Layers.Take(4).Select(l => l.Mlp.Kind));
        Assert.Equal(1, m.Layers[3].Mlp.SharedExpertCount);
        // DeepSeek-V3: 671 B parameters without the MTP block
        Assert.InRange(TensorInventory.ParameterCount(m), 670_000_000_000L, 672_000_000_000L);
    }

    [Fact]
    public void DeepSeek_mla_layout_reads_the_mla_head_dims()
    {
        var m = GgufModelTranslator.Translate(DeepSeekV3Mla());
        var a = m.Layers[0].Attention;
        Assert.Equal((1, 576, 512), (a.KvHeadCount, a.KeyHeadDim, a.ValueHeadDim));
        Assert.Equal(128, a.Mla!.QkNopHeadDim);
        Assert.Equal(576, a.Mla.LatentElementsPerToken);
    }

    [Fact]
    public void Glm4_moe_counts_its_nextn_layer_but_does_not_run_it()
    {
        var meta = Meta("glm4moe", (".block_count", 47), (".embedding_length", 4096), (".feed_forward_length", 10944),
            (".attention.head_count", 96), (".attention.head_count_kv", 8), (".attention.key_length", 128),
            (".expert_count", 128), (".expert_used_count", 8), (".expert_feed_forward_length", 1408), (".expert_shared_count", 1),
            (".leading_dense_block_count", 1), (".nextn_predict_layers", 1), ("tokenizer.vocab_size", 151552));
        var m = GgufModelTranslator.Translate(meta);
        Assert.True(m.Layers[46].IsNextN);
        Assert.False(m.Layers[46].OwnsKvCache);
        Assert.Equal(46, m.RepeatingLayerCount);
    }

    /// <summary>GLM-4.6 metadata cut to its attention keys (as harvested logs carry it), with llama.cpp's printed 356.79 B.</summary>
    private static GgufMetadata Glm46Abbreviated(long? published) => Meta("glm4moe",
        [(".block_count", 93), (".embedding_length", 5120), (".feed_forward_length", 12288), (".attention.head_count", 96),
         (".attention.head_count_kv", 8), (".attention.key_length", 128), (".expert_count", 160), (".expert_used_count", 8),
         ("tokenizer.vocab_size", 151552), .. (published is { } p ? new (string, object)[] { ("model_params", p) } : [])]);

    [Fact]
    public void Glm4_moe_without_its_moe_keys_takes_the_release_layout_when_the_parameter_count_agrees()
    {
        var m = GgufModelTranslator.Translate(Glm46Abbreviated(356_790_000_000L));
        Assert.Equal(MlpKind.Dense, m.Layers[2].Mlp.Kind);
        Assert.Equal((MlpKind.MoE, 1536, 1), (m.Layers[3].Mlp.Kind, m.Layers[3].Mlp.ExpertFfnSize, m.Layers[3].Mlp.SharedExpertCount));
        Assert.InRange(TensorInventory.ParameterCount(m), 353_000_000_000L, 360_500_000_000L);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(200_000_000_000L)]
    public void Glm4_moe_without_its_moe_keys_and_without_an_agreeing_count_names_the_missing_key(long? published) =>
        Assert.Contains("expert_feed_forward_length", Assert.Throws<ModelDescriptionException>(() => GgufModelTranslator.Translate(Glm46Abbreviated(published))).Message, StringComparison.Ordinal);

    /// <summary>MiniMax-M2 (published: 229 B): 256 sigmoid-routed experts, full-width Q/K norms, no shared expert.</summary>
    [Fact]
    public void Minimax_m2_is_a_sigmoid_routed_moe_with_full_width_qk_norms()
    {
        var m = GgufModelTranslator.Translate(Meta("minimax-m2", (".block_count", 62), (".embedding_length", 3072), (".feed_forward_length", 0),
            (".attention.head_count", 48), (".attention.head_count_kv", 8), (".attention.key_length", 128), (".attention.value_length", 128),
            (".expert_count", 256), (".expert_used_count", 8), (".expert_feed_forward_length", 1536), ("tokenizer.vocab_size", 200064)));
        Assert.All(m.Layers, l => Assert.Equal((MlpKind.MoE, 0, QkNormKind.FullWidth), (l.Mlp.Kind, l.Mlp.SharedExpertCount, l.Attention.QkNorm)));
        Assert.True(m.Layers[0].Mlp.RouterScoreCorrectionBias);
        Assert.InRange(TensorInventory.ParameterCount(m), 228_000_000_000L, 229_500_000_000L);
    }

    /// <summary>Qwen3.5-0.8B: Qwen3-Next's layout — three Gated DeltaNet layers to one gated full-attention layer.</summary>
    [Fact]
    public void Qwen35_follows_the_qwen3_next_layout()
    {
        var m = GgufModelTranslator.Translate(Meta("qwen35", (".block_count", 24), (".embedding_length", 1024), (".feed_forward_length", 3584),
            (".attention.head_count", 8), (".attention.head_count_kv", 2), (".attention.key_length", 256), (".attention.value_length", 256),
            (".ssm.conv_kernel", 4), (".ssm.state_size", 128), (".ssm.group_count", 16), (".ssm.time_step_rank", 16), (".ssm.inner_size", 2048),
            (".full_attention_interval", 4), ("tokenizer.vocab_size", 248320)));
        Assert.Equal(6, m.Layers.Count(l => l.Attention.Kind == AttentionKind.Full));
        Assert.Equal(18, m.Layers.Count(l => l.Attention.Recurrent is { Kind: RecurrentKind.GatedDeltaNet }));
        Assert.True(m.Layers[3].Attention.GatedQuery);
        Assert.Equal(AttentionKind.Full, m.Layers[3].Attention.Kind);
    }

    [Fact]
    public void Published_parameter_count_decides_whether_the_output_head_is_tied()
    {
        var untied = GgufModelTranslator.Translate(Meta("qwen2", (".block_count", 24), (".embedding_length", 896), (".feed_forward_length", 4864),
            (".attention.head_count", 14), (".attention.head_count_kv", 2), ("tokenizer.vocab_size", 151936), ("model_params", 630_170_000L)));
        var tied = GgufModelTranslator.Translate(Meta("qwen2", (".block_count", 24), (".embedding_length", 896), (".feed_forward_length", 4864),
            (".attention.head_count", 14), (".attention.head_count_kv", 2), ("tokenizer.vocab_size", 151936), ("model_params", 494_030_000L)));
        Assert.False(untied.TiedEmbeddings);
        Assert.True(tied.TiedEmbeddings);
    }

    [Fact]
    public void Unknown_architecture_names_the_supported_ones()
    {
        var e = Assert.Throws<UnsupportedArchitectureException>(() => GgufModelTranslator.Translate(Meta("rwkv9", (".block_count", 2))));
        Assert.Contains("deepseek2", e.Message, StringComparison.Ordinal);
        Assert.Equal("rwkv9", e.Architecture);
    }

    [Fact]
    public void A_missing_required_key_is_named()
    {
        var e = Assert.Throws<ModelDescriptionException>(() => GgufModelTranslator.Translate(Meta("llama", (".block_count", 2), ("tokenizer.vocab_size", 10))));
        Assert.Contains("llama.embedding_length", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Q4_K_M", GgmlType.Q4_K)]
    [InlineData("Q3_K_L", GgmlType.Q3_K)]
    [InlineData("IQ3_M", GgmlType.IQ3_S)]
    [InlineData("MXFP4_MOE", GgmlType.MXFP4)]
    [InlineData("Q8_0", GgmlType.Q8_0)]
    public void File_types_map_to_their_main_ggml_type(string ftype, GgmlType main) =>
        Assert.Equal(main, GgufFileTypes.MainType(ftype));

    [Fact]
    public void File_type_ids_are_named_like_llama_quantize() =>
        Assert.Equal(("Q4_K_M", "MXFP4_MOE", null), (GgufFileTypes.Name(15), GgufFileTypes.Name(38), GgufFileTypes.Name(99)));
}

public class GgufHybridArchitectureTests
{
    [Fact]
    public void Qwen3_next_has_three_gated_delta_net_layers_per_attention_layer()
    {
        var meta = GgufMetadataFixtures.Meta("qwen3next", (".block_count", 48), (".embedding_length", 2048), (".feed_forward_length", 5120),
            (".attention.head_count", 16), (".attention.head_count_kv", 2), (".attention.key_length", 256), (".attention.value_length", 256),
            (".expert_count", 512), (".expert_used_count", 10), (".expert_feed_forward_length", 512), (".expert_shared_feed_forward_length", 512),
            (".ssm.conv_kernel", 4), (".ssm.state_size", 128), (".ssm.group_count", 16), (".ssm.time_step_rank", 32), (".ssm.inner_size", 4096),
            ("tokenizer.vocab_size", 151936));
        var m = VramFit.Sources.Gguf.GgufModelTranslator.Translate(meta);
        Assert.Equal(12, m.Layers.Count(l => l.OwnsKvCache));
        Assert.Equal(AttentionKind.Full, m.Layers[3].Attention.Kind);
        var r = m.Layers[0].Attention.Recurrent!;
        // llama.cpp qwen3next: r = (d_conv − 1)(d_inner + 2·n_group·d_state), s = d_state · d_inner
        Assert.Equal((3L * (4096 + 2 * 16 * 128), 128L * 4096), (r.ConvStateElements, r.SsmStateElements));
        Assert.True(m.Layers[0].Mlp.SharedExpertGate);
    }

    [Fact]
    public void Llama4_chunks_three_of_four_layers_and_interleaves_experts()
    {
        var meta = GgufMetadataFixtures.Meta("llama4", (".block_count", 8), (".embedding_length", 5120), (".feed_forward_length", 16384),
            (".attention.head_count", 40), (".attention.head_count_kv", 8), (".attention.key_length", 128),
            (".expert_count", 128), (".expert_used_count", 1), (".expert_feed_forward_length", 8192), (".interleave_moe_layer_step", 2),
            ("tokenizer.vocab_size", 202048));
        var m = VramFit.Sources.Gguf.GgufModelTranslator.Translate(meta);
        Assert.Equal([true, true, true, false, true, true, true, false], m.Layers.Select(l => l.Attention.Kind == AttentionKind.SlidingWindow));
        Assert.Equal(8192, m.Layers[0].Attention.SlidingWindow);
        Assert.Equal([MlpKind.Dense, MlpKind.MoE], m.Layers.Take(2).Select(l => l.Mlp.Kind));
        Assert.Equal(1, m.Layers[1].Mlp.SharedExpertCount);
    }
}

public class GgufLlamaLayoutFamilyTests
{
    [Theory]
    [InlineData("gemma", true)]
    [InlineData("granite", false)]
    [InlineData("olmo2", false)]
    [InlineData("command-r", true)]
    public void Llama_layout_families_translate_with_their_head_convention(string arch, bool tied)
    {
        var m = VramFit.Sources.Gguf.GgufModelTranslator.Translate(GgufMetadataFixtures.Meta(arch, (".block_count", 2), (".embedding_length", 1024),
            (".feed_forward_length", 4096), (".attention.head_count", 16), (".attention.head_count_kv", 4), ("tokenizer.vocab_size", 5000)));
        Assert.Equal(tied, m.TiedEmbeddings);
        Assert.Equal(4 * 64, m.Layers[0].Attention.KeyElementsPerToken);
    }

    [Fact]
    public void Qwen2_moe_has_a_gated_shared_expert()
    {
        var m = VramFit.Sources.Gguf.GgufModelTranslator.Translate(GgufMetadataFixtures.Meta("qwen2moe", (".block_count", 2), (".embedding_length", 2048),
            (".feed_forward_length", 5632), (".attention.head_count", 16), (".attention.head_count_kv", 16), (".expert_count", 60),
            (".expert_used_count", 4), (".expert_feed_forward_length", 1408), (".expert_shared_feed_forward_length", 5632), ("tokenizer.vocab_size", 151936)));
        Assert.Equal((1, 5632, true), (m.Layers[0].Mlp.SharedExpertCount, m.Layers[0].Mlp.SharedExpertFfnSize, m.Layers[0].Mlp.SharedExpertGate));
    }
}
