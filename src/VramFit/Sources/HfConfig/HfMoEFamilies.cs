using VramFit.Errors;
using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>DeepSeek-V2/V3 (MLA + fine-grained MoE + NextN) and gpt-oss (sinks, sliding/full interleave, biased experts).</summary>
internal static class HfMoEFamilies
{
    /// <summary>
    /// DeepSeek-V2 / V2-Lite / V3 / R1: multi-head latent attention on every layer; the first
    /// <c>first_k_dense_replace</c> layers (and any i with i % moe_layer_freq ≠ 0) are dense of
    /// <c>intermediate_size</c>, the rest route to <c>n_routed_experts</c> experts plus <c>n_shared_experts</c>
    /// always-on ones of <c>moe_intermediate_size</c> each (DeepseekV3DecoderLayer). V3's noaux_tc router
    /// carries an e_score_correction_bias. <c>num_nextn_predict_layers</c> MTP blocks are appended: they are
    /// in the checkpoint as model.layers.{n}.* but never decode (llama.cpp nextn_predict_layers).
    /// </summary>
    public static ModelDescription DeepSeek(HfConfig c)
    {
        int n = c.RequireInt("num_hidden_layers");
        int heads = c.RequireInt("num_attention_heads");
        var attention = new AttentionSpec
        {
            Kind = AttentionKind.Mla,
            HeadCount = heads,
            KvHeadCount = heads,
            RotaryDims = c.RequireInt("qk_rope_head_dim"),
            RotaryBase = c.Double("rope_theta") ?? 10000,
            Mla = new MlaSpec
            {
                QLoraRank = c.Int("q_lora_rank") ?? 0,
                KvLoraRank = c.RequireInt("kv_lora_rank"),
                QkNopHeadDim = c.RequireInt("qk_nope_head_dim"),
                QkRopeHeadDim = c.RequireInt("qk_rope_head_dim"),
                VHeadDim = c.RequireInt("v_head_dim"),
            },
        };
        int? routed = c.Int("n_routed_experts");
        int firstDense = c.Int("first_k_dense_replace") ?? 0;
        int freq = c.Int("moe_layer_freq") ?? 1;
        if (freq <= 0)
            throw new ModelDescriptionException($"moe_layer_freq: must be positive, got {freq}");
        MlpSpec? moe = null;
        if (routed is > 0)
        {
            int expertFfn = c.RequireInt("moe_intermediate_size");
            int shared = c.Int("n_shared_experts") ?? 0;
            moe = new MlpSpec
            {
                Kind = MlpKind.MoE,
                ExpertCount = routed.Value,
                ActiveExpertCount = c.RequireInt("num_experts_per_tok"),
                ExpertFfnSize = expertFfn,
                SharedExpertCount = shared,
                SharedExpertFfnSize = shared > 0 ? expertFfn : 0,
                RouterScoreCorrectionBias = c.String("topk_method") == "noaux_tc",
            };
        }

        var dense = HfDecoder.DenseMlp(c);
        LayerSpec Layer(int i, bool nextN) => new()
        {
            Attention = attention,
            Mlp = moe is not null && i >= firstDense && i % freq == 0 ? moe : dense,
            IsNextN = nextN,
        };
        int nextNCount = c.Int("num_nextn_predict_layers") ?? 0;
        if (nextNCount < 0)
            throw new ModelDescriptionException($"num_nextn_predict_layers: must not be negative, got {nextNCount}");
        var layers = Enumerable.Range(0, n).Select(i => Layer(i, false))
            .Concat(Enumerable.Range(n, nextNCount).Select(i => Layer(i, true)));
        return HfDecoder.Build(c, layers);
    }

    /// <summary>
    /// gpt-oss: every block has biased q/k/v/o projections, one learned sink logit per query head, and a
    /// MoE of <c>num_local_experts</c> SwiGLU experts with biases on gate_up and down and a biased router
    /// (transformers GptOssAttention / GptOssExperts / GptOssTopKRouter). Layers alternate sliding (128
    /// tokens) and full attention as <c>layer_types</c> lists, starting with a sliding one.
    /// </summary>
    public static ModelDescription GptOss(HfConfig c)
    {
        int n = c.RequireInt("num_hidden_layers");
        int window = c.Int("sliding_window") ?? 128;
        var moe = new MlpSpec
        {
            Kind = MlpKind.MoE,
            ExpertCount = c.RequireInt("num_local_experts", "num_experts"),
            ActiveExpertCount = c.RequireInt("num_experts_per_tok", "experts_per_token"),
            ExpertFfnSize = c.RequireInt("intermediate_size"),
            Bias = true,
            RouterBias = true,
        };
        bool bias = c.Bool("attention_bias") ?? true;
        var types = HfLayerPattern.Read(c, n, i => i % 2 == 0 ? HfLayerType.Sliding : HfLayerType.Full);
        var layers = types.Select(t => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, window, bias, bias) with { Sinks = true },
            Mlp = moe,
        });
        return HfDecoder.Build(c, layers);
    }
}
