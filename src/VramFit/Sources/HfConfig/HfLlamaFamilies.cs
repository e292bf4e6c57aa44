using VramFit.Errors;
using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Pre-norm RMSNorm decoders in the Llama lineage: Llama, Mistral, Mixtral, Qwen2/2.5, Qwen2-MoE, Qwen3,
/// Qwen3-MoE, Phi-3/Phi-4 and OLMo-2. They differ in biases, QK norms, fused projections and MoE.
/// </summary>
internal static class HfLlamaFamilies
{
    /// <summary>The layer count, after the hidden size, so that an empty config names hidden_size first.</summary>
    private static int Layers(HfConfig c) => c.RequireInt("hidden_size") > 0 ? c.RequireInt("num_hidden_layers") : 0;

    private static LayerSpec[] Uniform(HfConfig c, Func<int, HfLayerType, LayerSpec> layer, Func<int, HfLayerType>? pattern = null)
    {
        int n = Layers(c);
        var types = HfLayerPattern.Read(c, n, pattern ?? (_ => HfDecoder.UniformType(c)));
        return Enumerable.Range(0, n).Select(i => layer(i, types[i])).ToArray();
    }

    /// <summary>
    /// Llama 2/3/3.1/3.2/3.3 and Mistral: GQA, SwiGLU, optional attention_bias (on q, k, v and o as in
    /// transformers LlamaAttention), optional mlp_bias; a set sliding_window slides every layer (Mistral-7B-v0.1).
    /// </summary>
    public static ModelDescription Llama(HfConfig c)
    {
        int window = c.Int("sliding_window") ?? 0;
        bool bias = c.Bool("attention_bias") ?? false;
        var layers = Uniform(c, (_, t) => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, window, qkvBias: bias, outputBias: bias),
            Mlp = HfDecoder.DenseMlp(c, bias: c.Bool("mlp_bias") ?? false),
        });
        return HfDecoder.Build(c, layers);
    }

    /// <summary>Mixtral: Mistral attention, every layer a top-k MoE of <c>num_local_experts</c> SwiGLU experts, no biases.</summary>
    public static ModelDescription Mixtral(HfConfig c)
    {
        int window = c.Int("sliding_window") ?? 0;
        var moe = new MlpSpec
        {
            Kind = MlpKind.MoE,
            ExpertCount = c.RequireInt("num_local_experts"),
            ActiveExpertCount = c.RequireInt("num_experts_per_tok"),
            ExpertFfnSize = c.RequireInt("intermediate_size"),
        };
        var layers = Uniform(c, (_, t) => new LayerSpec { Attention = HfDecoder.Attention(c, t, window), Mlp = moe });
        return HfDecoder.Build(c, layers);
    }

    /// <summary>
    /// Qwen2 / Qwen2.5 (and QwQ, R1-Distill-Qwen): biases on q, k, v only. Sliding window only when
    /// <c>use_sliding_window</c> is true, and then on layers ≥ <c>max_window_layers</c> (transformers Qwen2Config).
    /// </summary>
    public static ModelDescription Qwen2(HfConfig c) => QwenDense(c, qkvBias: true, QkNormKind.None);

    /// <summary>Qwen3: Qwen2 without q/k/v biases (attention_bias) and with per-head RMS QK norms.</summary>
    public static ModelDescription Qwen3(HfConfig c) => QwenDense(c, qkvBias: c.Bool("attention_bias") ?? false, QkNormKind.PerHead);

    private static ModelDescription QwenDense(HfConfig c, bool qkvBias, QkNormKind qkNorm)
    {
        var layers = Uniform(c, (_, t) => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, c.Int("sliding_window") ?? 0, qkvBias: qkvBias, qkNorm: qkNorm),
            Mlp = HfDecoder.DenseMlp(c),
        }, QwenWindowPattern(c));
        return HfDecoder.Build(c, layers);
    }

    internal static Func<int, HfLayerType> QwenWindowPattern(HfConfig c)
    {
        bool slide = (c.Bool("use_sliding_window") ?? false) && (c.Int("sliding_window") ?? 0) > 0;
        int from = c.Int("max_window_layers") ?? 0;
        return i => slide && i >= from ? HfLayerType.Sliding : HfLayerType.Full;
    }

    /// <summary>
    /// Qwen2-MoE (Qwen1.5-MoE, Qwen2-57B-A14B) and Qwen3-MoE: a MoE block on layers where
    /// (i + 1) % decoder_sparse_step == 0 and i ∉ mlp_only_layers, else a dense MLP (transformers
    /// Qwen2MoeDecoderLayer). Qwen2-MoE adds one shared expert with a sigmoid gate.
    /// </summary>
    /// <summary>The routed-expert block of Qwen2-MoE / Qwen3-MoE / Qwen3-Next configs: num_experts of
    /// moe_intermediate_size, top num_experts_per_tok, and one gated shared expert when
    /// shared_expert_intermediate_size is set.</summary>
    internal static MlpSpec QwenMoeBlock(HfConfig c)
    {
        int sharedFfn = c.Int("shared_expert_intermediate_size") ?? 0;
        return new MlpSpec
        {
            Kind = MlpKind.MoE,
            ExpertCount = c.RequireInt("num_experts"),
            ActiveExpertCount = c.RequireInt("num_experts_per_tok"),
            ExpertFfnSize = c.RequireInt("moe_intermediate_size"),
            SharedExpertCount = sharedFfn > 0 ? 1 : 0,
            SharedExpertFfnSize = sharedFfn,
            SharedExpertGate = sharedFfn > 0,
        };
    }

    public static ModelDescription QwenMoE(HfConfig c)
    {
        bool qwen3 = (c.String("model_type") ?? "").StartsWith("qwen3", StringComparison.Ordinal);   // qwen3_moe, Qwen3-VL's qwen3_vl_moe_text
        var moe = HfLlamaFamilies.QwenMoeBlock(c);
        int step = c.Int("decoder_sparse_step") ?? 1;
        if (step <= 0)
            throw new ModelDescriptionException($"decoder_sparse_step: must be positive, got {step}");
        var denseOnly = new HashSet<int>(c.IntArray("mlp_only_layers") ?? []);
        var layers = Uniform(c, (i, t) => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, c.Int("sliding_window") ?? 0,
                qkvBias: qwen3 ? c.Bool("attention_bias") ?? false : c.Bool("qkv_bias") ?? true,
                qkNorm: qwen3 ? QkNormKind.PerHead : QkNormKind.None),
            Mlp = (i + 1) % step == 0 && !denseOnly.Contains(i) ? moe : HfDecoder.DenseMlp(c),
        }, QwenWindowPattern(c));
        return HfDecoder.Build(c, layers);
    }

    /// <summary>
    /// Phi-3 / Phi-3.5 / Phi-4 (model_type phi3): fused qkv_proj and gate_up_proj without biases; a set
    /// sliding_window (2047 on Phi-3-mini) slides every layer, as llama.cpp's phi3 loader sets n_swa.
    /// </summary>
    public static ModelDescription Phi3(HfConfig c)
    {
        int window = c.Int("sliding_window") ?? 0;
        var layers = Uniform(c, (_, t) => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, window) with { FusedQkv = true },
            Mlp = HfDecoder.DenseMlp(c) with { FusedGateUp = true },
        });
        return HfDecoder.Build(c, layers);
    }

    /// <summary>
    /// OLMo-2: norms after attention and after the MLP (post_attention_layernorm, post_feedforward_layernorm:
    /// still two per block) and RMS QK norms over the full q and k widths (transformers Olmo2Attention).
    /// </summary>
    public static ModelDescription Olmo2(HfConfig c)
    {
        var layers = Uniform(c, (_, t) => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, 0, qkvBias: c.Bool("attention_bias") ?? false, outputBias: c.Bool("attention_bias") ?? false, qkNorm: QkNormKind.FullWidth),
            Mlp = HfDecoder.DenseMlp(c),
        });
        return HfDecoder.Build(c, layers);
    }
}
