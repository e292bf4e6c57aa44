using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Sources.HfConfig;

namespace VramFit.Tests.Sources.HfConfig;

/// <summary>Per-family layer patterns read from the catalog's published configs.</summary>
public class HfFamilyTranslationTests
{
    private static ModelDescription Catalog(string id) => ModelCatalog.Find(id).Describe();

    private static string Pattern(ModelDescription m) => string.Concat(m.Layers.Select(l => l.Attention.Kind switch
    {
        AttentionKind.Full => 'F',
        AttentionKind.SlidingWindow => 'S',
        AttentionKind.Mla => 'M',
        AttentionKind.Recurrent => 'R',
        _ => '-',
    }));

    [Fact]
    public void Gemma3_has_five_local_layers_per_global_one()
    {
        var m = Catalog("google/gemma-3-27b-it");
        Assert.Equal(62, m.Layers.Length);
        Assert.Equal("SSSSSF", Pattern(m)[..6]);
        Assert.Equal(10, m.Layers.Count(l => l.Attention.Kind == AttentionKind.Full));
        Assert.All(m.Layers.Where(l => l.Attention.Kind == AttentionKind.SlidingWindow), l => Assert.Equal(1024, l.Attention.SlidingWindow));
        Assert.All(m.Layers, l => Assert.Equal(4, l.NormCount));
        Assert.Equal(QkNormKind.PerHead, m.Layers[0].Attention.QkNorm);
        Assert.Equal(128, m.Layers[0].Attention.KeyHeadDim);
    }

    [Fact]
    public void Rotary_dims_follow_the_partial_factor_of_each_family()
    {
        // GPT-NeoX rotary_pct 0.25 of head_dim 256; Qwen3-Next partial_rotary_factor 0.25 of 256; Llama whole heads
        Assert.All(Catalog("EleutherAI/pythia-1b").Layers, l => Assert.Equal(64, l.Attention.RotaryDims));
        Assert.All(Catalog("Qwen/Qwen3-Next-80B-A3B-Instruct").Layers.Where(l => l.Attention.Kind == AttentionKind.Full),
            l => Assert.Equal(64, l.Attention.RotaryDims));
        Assert.All(Catalog("meta-llama/Llama-3.1-8B").Layers, l => Assert.Equal(128, l.Attention.RotaryDims));
        // MLA rotates qk_rope_head_dim only; GPT-2 has learned positions and Jamba's attention no positions at all
        Assert.All(Catalog("deepseek-ai/DeepSeek-V3").Layers, l => Assert.Equal(64, l.Attention.RotaryDims));
        Assert.All(Catalog("openai-community/gpt2").Layers, l => Assert.Equal(0, l.Attention.RotaryDims));
        Assert.All(Catalog("ai21labs/Jamba-v0.1").Layers, l => Assert.Equal(0, l.Attention.RotaryDims));
    }

    [Fact]
    public void Gemma3_local_layers_rotate_with_their_own_base()
    {
        // transformers Gemma3TextConfig defaults: rope_theta 1e6 (global), rope_local_base_freq 1e4 (sliding)
        var m = Catalog("google/gemma-3-27b-it");
        Assert.Equal(2, m.Layers.Select(l => (l.Attention.RotaryDims, l.Attention.RotaryBase)).Distinct().Count());
        Assert.Equal(10_000, m.Layers[0].Attention.RotaryBase);
        Assert.Equal(1_000_000, m.Layers[5].Attention.RotaryBase);
        // the global layers' linear rope scaling (factor 8) stretches their table; the local layers take none
        Assert.Equal(131_072 * 8, m.Layers[5].Attention.RotaryPositions);
        Assert.True(m.HasLayers(AttentionKind.SlidingWindow) && m.HasLayers(AttentionKind.Full));
        Assert.False(m.HasLayers(AttentionKind.Mla) || m.HasLayers(AttentionKind.Recurrent));
        Assert.Equal(0, m.Layers[0].Attention.RotaryPositions);
    }

    [Theory]
    // YaRN: original_max_position_embeddings × factor (vLLM YaRNScalingRotaryEmbedding)
    [InlineData("""{"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":32768}""", 131_072)]
    [InlineData("""{"type":"linear","factor":2.0}""", 65_536)]
    [InlineData("""{"type":"dynamic","factor":2.0}""", 65_536)]
    // llama3 keeps max_position_embeddings
    [InlineData("""{"rope_type":"llama3","factor":8.0,"original_max_position_embeddings":8192}""", 0)]
    [InlineData("null", 0)]
    public void Rope_scaling_sets_the_length_of_the_rotary_table(string scaling, int positions)
    {
        var m = HfConfigReader.Parse($$"""
            {"model_type":"llama","hidden_size":256,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":512,
             "vocab_size":1000,"max_position_embeddings":32768,"rope_scaling":{{scaling}}}
            """);
        Assert.All(m.Layers, l => Assert.Equal(positions, l.Attention.RotaryPositions));
    }

    [Fact]
    public void Gemma3_multimodal_text_config_takes_transformers_defaults()
    {
        var m = Catalog("google/gemma-3-4b-it");
        Assert.Equal(262_208, m.VocabSize);
        Assert.Equal(8, m.Layers[0].Attention.HeadCount);
        Assert.Equal(4, m.Layers[0].Attention.KvHeadCount);
        Assert.Equal(256, m.Layers[0].Attention.KeyHeadDim);
        // SigLIP-so400m at 896 px (416,866,032) + projector 1152 × 2560 + 1152
        Assert.Equal(419_816_304L, m.VisionEncoderParameters);
    }

    [Fact]
    public void Gemma2_alternates_starting_with_a_sliding_layer() =>
        Assert.Equal(string.Concat(Enumerable.Repeat("SF", 21)), Pattern(Catalog("google/gemma-2-9b")));

    [Fact]
    public void Gpt_oss_alternates_and_carries_sinks_biases_and_mxfp4_experts()
    {
        var m = Catalog("openai/gpt-oss-20b");
        Assert.Equal(string.Concat(Enumerable.Repeat("SF", 12)), Pattern(m));
        var layer = m.Layers[0];
        Assert.Equal(128, layer.Attention.SlidingWindow);
        Assert.True(layer.Attention.Sinks && layer.Attention.QkvBias && layer.Attention.OutputBias);
        Assert.True(layer.Mlp.Bias && layer.Mlp.RouterBias);
        Assert.Equal((32, 4), (layer.Mlp.ExpertCount, layer.Mlp.ActiveExpertCount));
        Assert.Equal(WeightFormatKind.Mxfp4, m.CheckpointFormat!.Kind);
        Assert.True(m.CheckpointFormat.ExpertsOnly);
        Assert.Contains(TensorInventory.Build(m), t => t.Name == "blk.0.attn_sinks.weight" && t.Elements == 64);
    }

    [Fact]
    public void DeepSeek_v3_has_leading_dense_layers_mla_and_a_nextn_block()
    {
        var m = Catalog("deepseek-ai/DeepSeek-V3");
        Assert.Equal(62, m.Layers.Length);
        Assert.Equal(61, m.RepeatingLayerCount);
        Assert.All(m.Layers, l => Assert.Equal(AttentionKind.Mla, l.Attention.Kind));
        Assert.All(m.Layers.Take(3), l => Assert.Equal(MlpKind.Dense, l.Mlp.Kind));
        Assert.All(m.Layers.Skip(3), l => Assert.Equal(MlpKind.MoE, l.Mlp.Kind));
        var moe = m.Layers[3].Mlp;
        Assert.Equal((256, 8, 1, 2048), (moe.ExpertCount, moe.ActiveExpertCount, moe.SharedExpertCount, moe.SharedExpertFfnSize));
        Assert.True(moe.RouterScoreCorrectionBias);
        Assert.True(m.Layers[^1].IsNextN);
        Assert.False(m.Layers[^1].OwnsKvCache);
        Assert.Equal(576, m.Layers[0].Attention.Mla!.LatentElementsPerToken);
        Assert.Equal(Fp8ScaleGranularity.Block128, m.CheckpointFormat!.Fp8Scales);
    }

    [Fact]
    public void DeepSeek_v2_lite_projects_queries_directly()
    {
        var m = Catalog("deepseek-ai/DeepSeek-V2-Lite");
        Assert.Equal(0, m.Layers[0].Attention.Mla!.QLoraRank);
        Assert.Equal(MlpKind.Dense, m.Layers[0].Mlp.Kind);
        Assert.Equal(MlpKind.MoE, m.Layers[1].Mlp.Kind);
        Assert.DoesNotContain(m.Layers, l => l.IsNextN);
    }

    [Fact]
    public void Qwen3_next_has_three_delta_net_layers_per_gated_attention_layer()
    {
        var m = Catalog("Qwen/Qwen3-Next-80B-A3B-Instruct");
        Assert.Equal(string.Concat(Enumerable.Repeat("RRRF", 12)), Pattern(m));
        Assert.True(m.Layers[3].Attention.GatedQuery);
        var gdn = m.Layers[0].Attention.Recurrent!;
        Assert.Equal(RecurrentKind.GatedDeltaNet, gdn.Kind);
        // conv state (d_conv − 1)·(2·16·128 + 32·128), recurrent state 32·128·128
        Assert.Equal(3L * (2 * 16 * 128 + 32 * 128), gdn.ConvStateElements);
        Assert.Equal(32L * 128 * 128, gdn.SsmStateElements);
        Assert.All(m.Layers, l => Assert.True(l.Mlp.SharedExpertGate));
    }

    [Fact]
    public void Jamba_places_attention_every_eighth_layer_and_moe_every_second()
    {
        var m = Catalog("ai21labs/Jamba-v0.1");
        Assert.Equal(string.Concat(Enumerable.Repeat("RRRRFRRR", 4)), Pattern(m));
        Assert.Equal(string.Concat(Enumerable.Repeat("DM", 16)), string.Concat(m.Layers.Select(l => l.Mlp.Kind == MlpKind.MoE ? 'M' : 'D')));
        var mamba = m.Layers[0].Attention.Recurrent!;
        Assert.Equal((8192, 16, 4, 256), (mamba.InnerSize, mamba.StateSize, mamba.ConvKernel, mamba.DtRank));
        Assert.True(mamba.InnerNorms);
    }

    [Fact]
    public void Cohere2_slides_three_layers_of_four_behind_one_layernorm()
    {
        var m = Catalog("CohereForAI/c4ai-command-r7b-12-2024");
        Assert.Equal(string.Concat(Enumerable.Repeat("SSSF", 8)), Pattern(m));
        Assert.All(m.Layers, l => Assert.Equal(1, l.NormCount));
        Assert.Equal(NormKind.LayerNorm, m.NormKind);
        Assert.True(m.TiedEmbeddings);
    }

    [Fact]
    public void Falcon_7b_is_multi_query_and_40b_uses_grouped_kv_with_two_norms()
    {
        var f7 = Catalog("tiiuae/falcon-7b").Layers[0];
        Assert.Equal((71, 1, 1), (f7.Attention.HeadCount, f7.Attention.KvHeadCount, f7.NormCount));
        var f40 = Catalog("tiiuae/falcon-40b").Layers[0];
        Assert.Equal((128, 8, 2), (f40.Attention.HeadCount, f40.Attention.KvHeadCount, f40.NormCount));
        Assert.True(f40.NormBias && f40.Attention.FusedQkv && !f40.Mlp.Gated);
    }

    [Fact]
    public void Mistral_v01_slides_every_layer_and_v03_does_not()
    {
        Assert.All(Catalog("mistralai/Mistral-7B-v0.1").Layers, l => Assert.Equal(4096, l.Attention.SlidingWindow));
        Assert.All(Catalog("mistralai/Mistral-7B-v0.3").Layers, l => Assert.Equal(AttentionKind.Full, l.Attention.Kind));
    }

    [Fact]
    public void Qwen2_ignores_sliding_window_unless_enabled()
    {
        var m = Catalog("Qwen/Qwen2-7B-Instruct");
        Assert.All(m.Layers, l => Assert.Equal(AttentionKind.Full, l.Attention.Kind));
        Assert.True(m.Layers[0].Attention.QkvBias);
        Assert.False(m.Layers[0].Attention.OutputBias);
    }

    [Fact]
    public void Qwen2_5_vl_counts_its_vision_tower_separately()
    {
        var m = Catalog("Qwen/Qwen2.5-VL-7B-Instruct");
        Assert.Equal(7_615_616_512L, TensorInventory.ParameterCount(m));
        Assert.Equal(676_550_144L, m.VisionEncoderParameters);
    }

    /// <summary>
    /// Qwen3-VL-8B (published 8.77 B: the Qwen3-8B decoder and a 27-block ViT with three DeepStack mergers) and
    /// Qwen3-VL-30B-A3B (31.07 B: the Qwen3-30B-A3B MoE decoder and the same ViT).
    /// </summary>
    [Theory]
    [InlineData("Qwen/Qwen3-VL-8B-Instruct", 8_190_735_360L, 8.77e9)]
    [InlineData("Qwen/Qwen3-VL-30B-A3B-Instruct", 30_532_122_624L, 31.07e9)]
    public void Qwen3_vl_is_a_qwen3_decoder_with_its_vision_tower_counted_separately(string id, long decoder, double published)
    {
        var m = Catalog(id);
        Assert.Equal(decoder, TensorInventory.ParameterCount(m));
        Assert.All(m.Layers, l => Assert.Equal(QkNormKind.PerHead, l.Attention.QkNorm));
        Assert.InRange(TensorInventory.ParameterCount(m) + m.VisionEncoderParameters, published * 0.995, published * 1.005);
    }

    /// <summary>The vision shapes engines profile with: the largest image in tokens and the patches behind each token.</summary>
    [Theory]
    [InlineData("Qwen/Qwen2.5-VL-7B-Instruct", 16384, 4)]
    [InlineData("Qwen/Qwen3-VL-8B-Instruct", 16384, 4)]
    [InlineData("mistralai/Mistral-Small-3.1-24B-Instruct-2503", 3025, 4)]
    [InlineData("google/gemma-3-27b-it", 256, 16)]
    public void Vision_towers_carry_the_shape_of_their_largest_image(string id, int tokens, int patchesPerToken)
    {
        var shape = Catalog(id).VisionEncoder!;
        Assert.Equal((tokens, patchesPerToken), (shape.MaxTokensPerImage, shape.PatchesPerToken));
        Assert.Null(Catalog("meta-llama/Llama-3.1-8B").VisionEncoder);
    }

    /// <summary>Mistral-Small-3.1-24B (published 24.0 B): a Mistral decoder plus Pixtral and its projector (≈0.44 B).</summary>
    [Fact]
    public void Mistral3_is_a_mistral_decoder_with_pixtral_counted_separately()
    {
        var m = Catalog("mistralai/Mistral-Small-3.1-24B-Instruct-2503");
        Assert.Equal("mistral3", m.Architecture);
        Assert.Equal(40, m.Layers.Length);
        Assert.InRange(m.VisionEncoderParameters, 430_000_000L, 445_000_000L);
        Assert.InRange(TensorInventory.ParameterCount(m) + m.VisionEncoderParameters, 23.9e9, 24.1e9);
    }

    [Fact]
    public void Gpt2_has_learned_positions_and_biased_layernorms()
    {
        var m = Catalog("openai-community/gpt2");
        Assert.Equal(1024, m.LearnedPositions);
        Assert.Contains(TensorInventory.Build(m), t => t.Name == "output_norm.bias");
        Assert.DoesNotContain(TensorInventory.Build(m), t => t.Name == "output.weight");
    }

    /// <summary>OPT-125m: 125,239,296 parameters as published, with OPT's two extra position rows and no RoPE.</summary>
    [Fact]
    public void Opt_has_offset_learned_positions_biased_projections_and_a_tied_head()
    {
        var m = Catalog("facebook/opt-125m");
        Assert.Equal(125_239_296L, TensorInventory.ParameterCount(m));
        Assert.Equal(2048 + 2, m.LearnedPositions);
        Assert.Equal(2048, m.MaxContext);
        Assert.All(m.Layers, l => Assert.Equal(0, l.Attention.RotaryDims));
        Assert.All(m.Layers, l => Assert.False(l.Mlp.Gated));
        Assert.DoesNotContain(TensorInventory.Build(m), t => t.Name == "output.weight");
    }

    /// <summary>Phi-2: 2,779,683,840 parameters (its model card's count), one LayerNorm per parallel block, a biased head, RoPE on 40 % of each head.</summary>
    [Fact]
    public void Phi2_has_parallel_blocks_partial_rope_and_a_biased_head()
    {
        var m = Catalog("microsoft/phi-2");
        Assert.Equal(2_779_683_840L, TensorInventory.ParameterCount(m));
        Assert.All(m.Layers, l => Assert.Equal(1, l.NormCount));
        Assert.All(m.Layers, l => Assert.Equal(32, l.Attention.RotaryDims));
        Assert.Contains(TensorInventory.Build(m), t => t.Name == "output.bias");
    }

    /// <summary>SantaCoder: multi-query attention (one KV head) over GPT-2's learned positions.</summary>
    [Fact]
    public void Gpt_bigcode_is_multi_query_with_learned_positions()
    {
        var m = Catalog("bigcode/gpt_bigcode-santacoder");
        Assert.All(m.Layers, l => Assert.Equal(1, l.Attention.KvHeadCount));
        Assert.All(m.Layers, l => Assert.True(l.Attention.FusedQkv));
        Assert.Equal(2048, m.LearnedPositions);
        Assert.Equal(0, m.Layers[0].Attention.RotaryDims);
    }

    [Theory]
    [InlineData("""{"model_type":"opt","hidden_size":1024,"word_embed_proj_dim":512,"num_attention_heads":16,"num_hidden_layers":24,"ffn_dim":4096,"vocab_size":50272,"max_position_embeddings":2048}""", "word_embed_proj_dim")]
    [InlineData("""{"model_type":"opt","hidden_size":64,"do_layer_norm_before":false,"num_attention_heads":4,"num_hidden_layers":2,"ffn_dim":128,"vocab_size":100,"max_position_embeddings":64}""", "do_layer_norm_before")]
    [InlineData("""{"model_type":"opt","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"vocab_size":100,"max_position_embeddings":64}""", "ffn_dim")]
    public void Opt_shapes_that_are_not_modelled_are_named(string json, string field) =>
        Assert.Contains(field, Assert.Throws<ModelDescriptionException>(() => HfConfigReader.Parse(json)).Message, StringComparison.Ordinal);

    [Fact]
    public void Layer_types_of_the_wrong_length_are_rejected() =>
        Assert.Contains("layer_types", Assert.Throws<ModelDescriptionException>(() => HfConfigReader.Parse("""
            {"model_type":"gpt_oss","hidden_size":64,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,
             "num_hidden_layers":3,"layer_types":["sliding_attention","full_attention"],"num_local_experts":4,
             "num_experts_per_tok":2,"intermediate_size":32,"vocab_size":100}
            """)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"model_type":"deepseek_v3","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":32,"vocab_size":100,"qk_nope_head_dim":16,"qk_rope_head_dim":8,"v_head_dim":16}""", "kv_lora_rank")]
    [InlineData("""{"model_type":"qwen3_moe","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":32,"vocab_size":100,"num_experts":8,"num_experts_per_tok":2}""", "moe_intermediate_size")]
    [InlineData("""{"model_type":"qwen3_next","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":4,"intermediate_size":32,"vocab_size":100,"linear_key_head_dim":16,"linear_value_head_dim":16,"linear_num_value_heads":4,"linear_num_key_heads":2}""", "linear_conv_kernel_dim")]
    [InlineData("""{"model_type":"mixtral","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":32,"vocab_size":100,"num_experts_per_tok":2}""", "num_local_experts")]
    [InlineData("""{"model_type":"gpt2","n_head":4,"n_layer":2,"vocab_size":100,"n_positions":64}""", "n_embd")]
    [InlineData("""{"model_type":"gemma2","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":32}""", "vocab_size")]
    [InlineData("""{"model_type":"qwen3_moe","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":32,"vocab_size":100,"num_experts":8,"num_experts_per_tok":9,"moe_intermediate_size":16}""", "num_experts_per_tok")]
    public void Missing_or_contradictory_fields_are_named(string json, string field) =>
        Assert.Contains(field, Assert.Throws<ModelDescriptionException>(() => HfConfigReader.Parse(json)).Message, StringComparison.Ordinal);

    [Fact]
    public void Every_supported_model_type_is_listed_in_the_error()
    {
        var e = Assert.Throws<UnsupportedArchitectureException>(() => HfConfigReader.Parse("""{"model_type":"mamba2"}"""));
        foreach (var type in new[] { "deepseek_v3", "gemma3", "gpt_oss", "jamba", "qwen3_next", "falcon", "starcoder2" })
            Assert.Contains(type, e.Message, StringComparison.Ordinal);
    }
}
