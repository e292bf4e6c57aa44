using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Vision-language models whose language model is a known decoder: Qwen2-VL, Qwen2.5-VL, Qwen3-VL (dense and MoE)
/// and Mistral-3 (Mistral-Small-3.1/3.2 with Pixtral).
/// </summary>
internal static class HfVisionFamilies
{
    /// <summary>
    /// Qwen2-VL / Qwen2.5-VL: a Qwen2 decoder (q/k/v biases). Older configs keep the text fields at the root,
    /// newer ones under text_config; the ViT and its patch merger are counted from vision_config.
    /// </summary>
    public static ModelDescription Qwen2Vl(HfConfig root)
    {
        var c = root.Text;
        var types = HfLayerPattern.Read(c, c.RequireInt("num_hidden_layers"), HfLlamaFamilies.QwenWindowPattern(c));
        var layers = types.Select(t => new LayerSpec
        {
            Attention = HfDecoder.Attention(c, t, c.Int("sliding_window") ?? 0, qkvBias: true),
            Mlp = HfDecoder.DenseMlp(c),
        });
        var (vision, shape) = root.Section("vision_config") is { } v ? HfVisionTowers.QwenVit(v, root.ModelType == "qwen2_5_vl", c.RequireInt("hidden_size")) : default;
        return HfDecoder.Build(c, layers, root: root, visionParameters: vision, visionEncoder: shape);
    }

    /// <summary>
    /// Qwen3-VL (<c>qwen3_vl</c>, <c>qwen3_vl_moe</c>): a Qwen3 or Qwen3-MoE decoder in text_config (q/k norms) and the
    /// Qwen3-VL ViT with its DeepStack mergers (<see cref="HfVisionTowers.Qwen3Vit"/>).
    /// </summary>
    public static ModelDescription Qwen3Vl(HfConfig root)
    {
        var text = root.Text;
        var decoder = root.ModelType == "qwen3_vl_moe" ? HfLlamaFamilies.QwenMoE(text) : HfLlamaFamilies.Qwen3(text);
        var (vision, shape) = root.Section("vision_config") is { } v ? HfVisionTowers.Qwen3Vit(v, decoder.HiddenSize) : default;
        return HfDecoder.Wrap(decoder, root, vision, shape);
    }

    /// <summary>
    /// Mistral-3 (<c>mistral3</c>: Mistral-Small-3.1/3.2-24B): a Mistral decoder in text_config, the Pixtral vision
    /// encoder and Mistral3MultiModalProjector (<see cref="HfVisionTowers.Pixtral"/>).
    /// </summary>
    public static ModelDescription Mistral3(HfConfig root)
    {
        var decoder = HfLlamaFamilies.Llama(root.Text);
        var (vision, shape) = root.Section("vision_config") is { } v
            ? HfVisionTowers.Pixtral(v, decoder.HiddenSize, root.Int("spatial_merge_size") ?? 2, root.Bool("multimodal_projector_bias") ?? false)
            : default;
        return HfDecoder.Wrap(decoder, root, vision, shape);
    }
}
