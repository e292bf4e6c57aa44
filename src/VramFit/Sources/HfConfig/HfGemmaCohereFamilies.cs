using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Gemma 1/2/3 (GeGLU, tied embeddings, head_dim 256 or 128, sandwich norms and local/global interleave
/// from Gemma-2 on) and Cohere Command-R / Command-R7B (parallel attention + MLP behind one bias-free LayerNorm).
/// </summary>
internal static class HfGemmaCohereFamilies
{
    /// <summary>Gemma 1: a Llama block with GeGLU and tied embeddings (transformers GemmaConfig tie_word_embeddings=True).</summary>
    public static ModelDescription Gemma(HfConfig c)
    {
        var layer = new LayerSpec { Attention = HfDecoder.Attention(c, HfLayerType.Full, 0), Mlp = HfDecoder.DenseMlp(c) };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers")), tiedByDefault: true);
    }

    /// <summary>
    /// Gemma-2: four norms per block (input, post-attention, pre- and post-feedforward); even layers slide
    /// over <c>sliding_window</c> tokens, odd layers are global (transformers Gemma2DecoderLayer:
    /// is_sliding = not layer_idx % 2), unless <c>layer_types</c> says otherwise.
    /// </summary>
    public static ModelDescription Gemma2(HfConfig c)
    {
        int n = c.RequireInt("num_hidden_layers");
        int window = c.Int("sliding_window") ?? 4096;
        var types = HfLayerPattern.Read(c, n, i => i % 2 == 0 ? HfLayerType.Sliding : HfLayerType.Full);
        var layers = types.Select(t => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, window),
            Mlp = HfDecoder.DenseMlp(c),
            NormCount = 4,
        });
        return HfDecoder.Build(c, layers, tiedByDefault: true);
    }

    /// <summary>
    /// Gemma-3 text model (gemma3_text, or the text_config of a multimodal gemma3 config): Gemma-2 blocks
    /// with per-head RMS QK norms; five local layers per global one (sliding_window_pattern 6: layer i is
    /// global iff (i + 1) % 6 == 0). Absent text_config fields take the Gemma3TextConfig defaults
    /// (transformers configuration_gemma3.py). A multimodal config adds its SigLIP tower and projector.
    /// </summary>
    public static ModelDescription Gemma3(HfConfig root)
    {
        var c = root.Text.WithDefaults(
            ("vocab_size", 262_208), ("hidden_size", 2304), ("intermediate_size", 9216), ("num_hidden_layers", 26),
            ("num_attention_heads", 8), ("num_key_value_heads", 4), ("head_dim", 256),
            ("max_position_embeddings", 131_072), ("sliding_window", 4096), ("rope_theta", 1_000_000), ("rope_local_base_freq", 10_000));
        int n = c.RequireInt("num_hidden_layers");
        int window = c.RequireInt("sliding_window");
        var types = HfLayerPattern.Read(c, n, HfLayerPattern.EveryNthFull(c.Int("sliding_window_pattern") ?? 6, HfLayerType.Sliding));
        var layers = types.Select(t => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, window, qkNorm: QkNormKind.PerHead),
            Mlp = HfDecoder.DenseMlp(c),
            NormCount = 4,
        });
        // Gemma-3 pools every image to mm_tokens_per_image (256) soft tokens (Gemma3MultiModalProjector)
        var (vision, shape) = root.Section("vision_config") is { } v
            ? HfVisionTowers.Siglip(v, c.RequireInt("hidden_size"), root.Int("mm_tokens_per_image") ?? 256)
            : default;
        return HfDecoder.Build(c, layers, tiedByDefault: true, root: root, visionParameters: vision, visionEncoder: shape);
    }

    /// <summary>
    /// Cohere Command-R (cohere): attention and MLP run in parallel from one LayerNorm without bias; tied
    /// embeddings by default; optional per-head LayerNorm QK norms covering every head (use_qk_norm,
    /// Command-R+): weight [heads, head_dim].
    /// </summary>
    public static ModelDescription Cohere(HfConfig c)
    {
        bool bias = c.Bool("attention_bias") ?? false;
        var qk = c.Bool("use_qk_norm") ?? false ? QkNormKind.FullWidth : QkNormKind.None;
        var layer = new LayerSpec
        {
            Attention = HfDecoder.Attention(c, HfLayerType.Full, 0, bias, bias, qk),
            Mlp = HfDecoder.DenseMlp(c),
            NormCount = 1,
        };
        return HfDecoder.Build(c, Enumerable.Repeat(layer, c.RequireInt("num_hidden_layers")), tiedByDefault: true, norm: NormKind.LayerNorm);
    }

    /// <summary>
    /// Cohere2 (Command-R7B, Command-A): Cohere's parallel block with three sliding layers per global one
    /// (sliding_window_pattern 4: layer i is global iff (i + 1) % 4 == 0, transformers Cohere2Config).
    /// </summary>
    public static ModelDescription Cohere2(HfConfig c)
    {
        int n = c.RequireInt("num_hidden_layers");
        bool bias = c.Bool("attention_bias") ?? false;
        int window = c.Int("sliding_window") ?? 4096;
        var types = HfLayerPattern.Read(c, n, HfLayerPattern.EveryNthFull(c.Int("sliding_window_pattern") ?? 4, HfLayerType.Sliding));
        var layers = types.Select(t => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, window, bias, bias),
            Mlp = HfDecoder.DenseMlp(c),
            NormCount = 1,
        });
        return HfDecoder.Build(c, layers, tiedByDefault: true, norm: NormKind.LayerNorm);
    }
}
