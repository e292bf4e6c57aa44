using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>Per-family translations of config.json into layer specs.</summary>
internal static class HfFamilies
{
    /// <summary>
    /// Llama 2/3/3.1/3.2/3.3 and Mistral: pre-norm RMSNorm blocks, GQA, SwiGLU, optional attention bias
    /// (attention_bias), optional mlp_bias, head_dim defaulting to hidden/heads, optional tied embeddings.
    /// </summary>
    public static ModelDescription Llama(HfConfig c)
    {
        int hidden = c.RequireInt("hidden_size");
        int heads = c.RequireInt("num_attention_heads");
        int kvHeads = c.Int("num_key_value_heads") ?? heads;
        int headDim = c.Int("head_dim") ?? hidden / heads;
        int layers = c.RequireInt("num_hidden_layers");
        int window = c.Int("sliding_window") ?? 0;
        bool qkvBias = c.Bool("attention_bias") ?? false;
        var attention = new AttentionSpec
        {
            Kind = window > 0 ? AttentionKind.SlidingWindow : AttentionKind.Full,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            KeyHeadDim = headDim,
            ValueHeadDim = headDim,
            SlidingWindow = window,
            QkvBias = qkvBias,
            OutputBias = qkvBias,
        };
        var mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = c.RequireInt("intermediate_size"), Bias = c.Bool("mlp_bias") ?? false };
        var layer = new LayerSpec { Attention = attention, Mlp = mlp };
        return new ModelDescription(
            c.ModelType,
            hidden,
            c.RequireInt("vocab_size"),
            Enumerable.Repeat(layer, layers),
            tiedEmbeddings: c.Bool("tie_word_embeddings") ?? false,
            maxContext: c.Int("max_position_embeddings") ?? 0,
            dtype: c.Dtype);
    }
}
