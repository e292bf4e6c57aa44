using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>Vision-language models whose language model is a known decoder: Qwen2-VL and Qwen2.5-VL.</summary>
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
        long vision = root.Section("vision_config") is { } v
            ? HfVisionTowers.QwenVit(v, root.ModelType == "qwen2_5_vl", c.RequireInt("hidden_size"))
            : 0;
        return HfDecoder.Build(c, layers, root: root, visionParameters: vision);
    }
}
