using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// LayerNorm-with-bias decoders with plain (non-gated) GELU MLPs and fused QKV projections:
/// GPT-2, GPT-BigCode (StarCoder), OPT, Phi-1/2, GPT-NeoX / Pythia, Falcon and StarCoder2.
/// </summary>
internal static class HfClassicFamilies
{
    /// <summary>
    /// GPT-2: learned absolute positions (n_positions), fused c_attn with bias, c_proj with bias, a 4·h MLP
    /// (n_inner) with biases, two LayerNorms per block, tied output head (GPT2LMHeadModel ties lm_head).
    /// </summary>
    public static ModelDescription Gpt2(HfConfig c)
    {
        int hidden = c.RequireInt("n_embd", "hidden_size");
        var layer = new LayerSpec
        {
            // learned absolute positions, no RoPE
            Attention = HfDecoder.Attention(c, HfLayerType.Full, 0, qkvBias: true, outputBias: true) with { FusedQkv = true, RotaryDims = 0, RotaryBase = 0 },
            Mlp = HfDecoder.DenseMlp(c, bias: true, gated: false, ffn: c.Int("n_inner") ?? 4 * hidden),
            NormBias = true,
        };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("n_layer", "num_hidden_layers")), tiedByDefault: true,
            norm: NormKind.LayerNorm, learnedPositions: c.RequireInt("n_positions", "max_position_embeddings"),
            maxContext: c.RequireInt("n_positions", "max_position_embeddings"));
    }

    /// <summary>
    /// GPT-BigCode (StarCoder, SantaCoder): GPT-2's block with multi-query attention when <c>multi_query</c>
    /// (default true): c_attn projects to the queries plus one key and one value head (transformers
    /// GPTBigCodeAttention, vLLM gpt_bigcode.py); learned positions, biased LayerNorms and a tied head.
    /// </summary>
    public static ModelDescription GptBigCode(HfConfig c)
    {
        int hidden = c.RequireInt("n_embd", "hidden_size");
        int heads = c.RequireInt("n_head", "num_attention_heads");
        bool multiQuery = c.Bool("multi_query") ?? true;
        var layer = new LayerSpec
        {
            Attention = HfDecoder.Attention(c, HfLayerType.Full, 0, qkvBias: true, outputBias: true)
                with { FusedQkv = true, KvHeadCount = multiQuery ? 1 : heads, RotaryDims = 0, RotaryBase = 0 },
            Mlp = HfDecoder.DenseMlp(c, bias: true, gated: false, ffn: c.Int("n_inner") ?? 4 * hidden),
            NormBias = true,
        };
        int positions = c.RequireInt("n_positions", "max_position_embeddings");
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("n_layer", "num_hidden_layers")), tiedByDefault: true,
            norm: NormKind.LayerNorm, learnedPositions: positions, maxContext: positions);
    }

    /// <summary>
    /// Phi-1/1.5/2 (<c>model_type</c> "phi"): attention and MLP in parallel behind one biased LayerNorm per block,
    /// q/k/v/dense projections and a GELU fc1/fc2 MLP with biases, partial RoPE (partial_rotary_factor, 0.5 by
    /// default in PhiConfig), a final LayerNorm and an untied lm_head with a bias (transformers modeling_phi.py,
    /// vLLM models/phi.py).
    /// </summary>
    public static ModelDescription Phi(HfConfig c)
    {
        int hidden = c.RequireInt("hidden_size");
        int heads = c.RequireInt("num_attention_heads");
        int headDim = hidden / heads;
        var layer = new LayerSpec
        {
            Attention = HfDecoder.Attention(c, HfLayerType.Full, 0, qkvBias: true, outputBias: true)
                with { RotaryDims = (int)(headDim * (c.Double("partial_rotary_factor") ?? 0.5)) },
            Mlp = HfDecoder.DenseMlp(c, bias: true, gated: false),
            NormCount = 1,
            NormBias = true,
        };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers")), norm: NormKind.LayerNorm, outputBias: true);
    }

    /// <summary>
    /// OPT (facebook/opt-*): separate q/k/v/out projections and a ReLU fc1/fc2 MLP of <c>ffn_dim</c>, all biased
    /// (<c>enable_bias</c>, default true), two LayerNorms with bias per block and a final one, tied output head,
    /// learned positions with OPT's offset of 2 rows (OPTLearnedPositionalEmbedding: max_position_embeddings + 2,
    /// transformers modeling_opt.py and vLLM models/opt.py alike). OPT-350m's post-norm blocks and its
    /// word_embed_proj_dim projections (project_in/project_out) are not modelled and say so.
    /// </summary>
    public static ModelDescription Opt(HfConfig c)
    {
        int hidden = c.RequireInt("hidden_size");
        if (c.Int("word_embed_proj_dim") is { } projected && projected != hidden)
            throw new Errors.ModelDescriptionException(
                $"opt: word_embed_proj_dim {projected} differs from hidden_size {hidden} (OPT-350m's project_in/project_out); not modelled");
        if (c.Bool("do_layer_norm_before") is false)
            throw new Errors.ModelDescriptionException("opt: do_layer_norm_before false (OPT-350m's post-norm blocks) is not modelled");
        bool bias = c.Bool("enable_bias") ?? true;
        var layer = new LayerSpec
        {
            Attention = HfDecoder.Attention(c, HfLayerType.Full, 0, bias, bias) with { RotaryDims = 0, RotaryBase = 0 },
            Mlp = HfDecoder.DenseMlp(c, bias: bias, gated: false, ffn: c.RequireInt("ffn_dim")),
            NormBias = true,
        };
        int positions = c.RequireInt("max_position_embeddings");
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers")), tiedByDefault: true,
            norm: NormKind.LayerNorm, learnedPositions: positions + 2, maxContext: positions);
    }

    /// <summary>
    /// GPT-NeoX (Pythia, GPT-NeoX-20B): fused query_key_value and dense with biases (attention_bias, default
    /// true), a biased GELU MLP, two LayerNorms with bias per block, separate embed_in / embed_out.
    /// </summary>
    public static ModelDescription GptNeoX(HfConfig c)
    {
        bool bias = c.Bool("attention_bias") ?? true;
        var layer = new LayerSpec
        {
            Attention = HfDecoder.Attention(c, HfLayerType.Full, 0, bias, bias) with { FusedQkv = true },
            Mlp = HfDecoder.DenseMlp(c, bias: true, gated: false),
            NormBias = true,
        };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers")), norm: NormKind.LayerNorm);
    }

    /// <summary>
    /// Falcon. Falcon-7B: parallel attention + MLP behind one LayerNorm, multi-query (one KV head).
    /// Falcon-40B/180B (new_decoder_architecture): grouped KV heads (num_kv_heads) and two LayerNorms
    /// (ln_attn, ln_mlp; num_ln_in_parallel_attn). Fused QKV, 4·h GELU MLP (ffn_hidden_size), biases only
    /// when <c>bias</c>; tied embeddings by default (transformers FalconConfig).
    /// </summary>
    public static ModelDescription Falcon(HfConfig c)
    {
        int hidden = c.RequireInt("hidden_size", "n_embd");
        int heads = c.RequireInt("num_attention_heads", "n_head");
        bool newArch = c.Bool("new_decoder_architecture") ?? false;
        bool parallel = c.Bool("parallel_attn") ?? true;
        int kvHeads = newArch ? c.FirstInt("num_kv_heads", "n_head_kv") ?? heads
            : c.Bool("multi_query") ?? true ? 1 : heads;
        int norms = newArch ? c.Int("num_ln_in_parallel_attn") ?? 2 : parallel ? 1 : 2;
        bool bias = c.Bool("bias") ?? false;
        var attention = new AttentionSpec
        {
            Kind = AttentionKind.Full,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            KeyHeadDim = c.Int("head_dim") ?? hidden / heads,
            ValueHeadDim = c.Int("head_dim") ?? hidden / heads,
            QkvBias = bias,
            OutputBias = bias,
            FusedQkv = true,
            // Falcon-RW uses ALiBi (alibi: true) instead of rotary embeddings
            RotaryDims = c.Bool("alibi") ?? false ? 0 : c.Int("head_dim") ?? hidden / heads,
            RotaryBase = c.Bool("alibi") ?? false ? 0 : c.Double("rope_theta") ?? 10000,
        };
        var layer = new LayerSpec
        {
            Attention = attention,
            Mlp = HfDecoder.DenseMlp(c, bias: bias, gated: false, ffn: c.Int("ffn_hidden_size") ?? 4 * hidden),
            NormCount = norms,
            NormBias = true,
        };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers", "n_layer")), tiedByDefault: true,
            norm: NormKind.LayerNorm, maxContext: c.Int("max_position_embeddings") ?? 2048);
    }

    /// <summary>
    /// StarCoder2: GQA with biases on q, k, v and o (use_bias), a biased GELU MLP (c_fc, c_proj), two
    /// LayerNorms with bias, and a sliding window on every layer when <c>sliding_window</c> is set.
    /// </summary>
    public static ModelDescription StarCoder2(HfConfig c)
    {
        bool bias = c.Bool("use_bias") ?? true;
        int window = c.Int("sliding_window") ?? 0;
        var layer = new LayerSpec
        {
            Attention = HfDecoder.Attention(c, HfDecoder.UniformType(c), window, bias, bias),
            Mlp = HfDecoder.DenseMlp(c, bias: bias, gated: false),
            NormBias = true,
        };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers")), tiedByDefault: true, norm: NormKind.LayerNorm);
    }
}
