using VramFit.Errors;
using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>Hybrids of attention with recurrent layers: Jamba (Mamba-1) and Qwen3-Next (gated DeltaNet).</summary>
internal static class HfHybridFamilies
{
    /// <summary>
    /// Jamba / Jamba-1.5: layer i is attention iff i % attn_layer_period == attn_layer_offset, otherwise a
    /// Mamba-1 mixer (d_inner = mamba_expand·h, with Jamba's dt/B/C RMS norms); its MLP is a MoE of
    /// num_experts iff i % expert_layer_period == expert_layer_offset (transformers JambaConfig.layers_block_type
    /// / layers_num_experts). Attention layers have no positional encoding and no biases.
    /// </summary>
    public static ModelDescription Jamba(HfConfig c)
    {
        int n = c.RequireInt("num_hidden_layers");
        int hidden = c.RequireInt("hidden_size");
        int attnPeriod = Positive(c, "attn_layer_period", 8), attnOffset = c.Int("attn_layer_offset") ?? 4;
        int expertPeriod = Positive(c, "expert_layer_period", 2), expertOffset = c.Int("expert_layer_offset") ?? 1;
        int inner = (c.Int("mamba_expand") ?? 2) * hidden;
        var mamba = new AttentionSpec
        {
            Kind = AttentionKind.Recurrent,
            Recurrent = new RecurrentSpec
            {
                Kind = RecurrentKind.Mamba,
                InnerSize = inner,
                StateSize = c.Int("mamba_d_state") ?? 16,
                ConvKernel = c.Int("mamba_d_conv") ?? 4,
                DtRank = c.Int("mamba_dt_rank") ?? (hidden + 15) / 16,
                ConvBias = c.Bool("mamba_conv_bias") ?? true,
                ProjectionBias = c.Bool("mamba_proj_bias") ?? false,
                InnerNorms = true,
            },
        };
        // Jamba's attention layers have no positional encoding (the Mamba layers carry position)
        var attention = HfDecoder.Attention(c, HfLayerType.Full, 0) with { RotaryDims = 0, RotaryBase = 0 };
        int experts = c.Int("num_experts") ?? 16;
        var moe = new MlpSpec
        {
            Kind = MlpKind.MoE,
            ExpertCount = experts,
            ActiveExpertCount = c.Int("num_experts_per_tok") ?? 2,
            ExpertFfnSize = c.RequireInt("intermediate_size"),
        };
        var dense = HfDecoder.DenseMlp(c);
        var layers = Enumerable.Range(0, n).Select(i => new LayerSpec
        {
            Attention = i % attnPeriod == attnOffset ? attention : mamba,
            Mlp = experts > 1 && i % expertPeriod == expertOffset ? moe : dense,
        });
        return HfDecoder.Build(c, layers, maxContext: c.Int("max_position_embeddings") ?? 262_144);
    }

    /// <summary>
    /// Qwen3-Next: three gated-DeltaNet layers per full-attention layer (full_attention_interval 4, or
    /// layer_types); full layers have a gated query (attn_output_gate), per-head QK norms and no biases; every
    /// layer is a MoE with one gated shared expert (transformers Qwen3NextDecoderLayer).
    /// </summary>
    public static ModelDescription Qwen3Next(HfConfig c)
    {
        int n = c.RequireInt("num_hidden_layers");
        int interval = c.Int("full_attention_interval") ?? 4;
        var types = HfLayerPattern.Read(c, n, HfLayerPattern.EveryNthFull(interval, HfLayerType.Linear));
        var full = HfDecoder.Attention(c, HfLayerType.Full, 0, qkNorm: QkNormKind.PerHead) with
        {
            GatedQuery = c.Bool("attn_output_gate") ?? true,
        };
        int keyHeadDim = c.RequireInt("linear_key_head_dim"), valueHeadDim = c.RequireInt("linear_value_head_dim");
        int valueHeads = c.RequireInt("linear_num_value_heads"), keyHeads = c.RequireInt("linear_num_key_heads");
        var linear = new AttentionSpec
        {
            Kind = AttentionKind.Recurrent,
            Recurrent = new RecurrentSpec
            {
                Kind = RecurrentKind.GatedDeltaNet,
                InnerSize = valueHeads * valueHeadDim,
                StateSize = keyHeadDim,
                ConvKernel = c.RequireInt("linear_conv_kernel_dim"),
                HeadCount = valueHeads,
                KeyHeadCount = keyHeads,
                KeyHeadDim = keyHeadDim,
                ValueHeadDim = valueHeadDim,
                ConvBias = false,
            },
        };
        var moe = HfLlamaFamilies.QwenMoeBlock(c);
        int step = Positive(c, "decoder_sparse_step", 1);
        var denseOnly = new HashSet<int>(c.IntArray("mlp_only_layers") ?? []);
        var layers = types.Select((t, i) => new LayerSpec
        {
            Attention = t == HfLayerType.Linear ? linear : full,
            Mlp = (i + 1) % step == 0 && !denseOnly.Contains(i) ? moe : HfDecoder.DenseMlp(c),
        });
        return HfDecoder.Build(c, layers);
    }

    private static int Positive(HfConfig c, string key, int fallback)
    {
        int v = c.Int(key) ?? fallback;
        return v > 0 ? v : throw new ModelDescriptionException($"{key}: must be positive, got {v}");
    }
}
