namespace VramFit.Sources.HfConfig;

/// <summary>
/// Parameter counts of the vision encoders (and their projectors into the language model) that
/// multimodal checkpoints carry next to the decoder. Layouts follow the transformers modules named below.
/// </summary>
internal static class HfVisionTowers
{
    /// <summary>
    /// SigLIP vision transformer as used by Gemma-3 (transformers SiglipVisionModel without head) plus
    /// Gemma3MultiModalProjector (mm_input_projection_weight [vision, text], mm_soft_emb_norm [vision]).
    /// Defaults are SiglipVisionConfig's.
    /// </summary>
    public static long Siglip(HfConfig v, int textHidden)
    {
        long h = v.Int("hidden_size") ?? 768, ffn = v.Int("intermediate_size") ?? 3072;
        long layers = v.Int("num_hidden_layers") ?? 12, channels = v.Int("num_channels") ?? 3;
        long patch = v.Int("patch_size") ?? 16, image = v.Int("image_size") ?? 224;
        long positions = (image / patch) * (image / patch);
        long embeddings = channels * patch * patch * h + h + positions * h;             // conv with bias + position table
        long block = 2 * (2 * h)                                                        // layer_norm1/2 weight + bias
            + 4 * (h * h + h)                                                           // q, k, v, out_proj with bias
            + (h * ffn + ffn) + (ffn * h + h);                                          // fc1, fc2 with bias
        long tower = embeddings + layers * block + 2 * h;                               // + post_layernorm
        long projector = h * textHidden + h;
        return tower + projector;
    }

    /// <summary>
    /// Qwen2-VL / Qwen2.5-VL ViT: a bias-free Conv3d patch embedding (in_chans × temporal_patch_size ×
    /// patch_size²), blocks with fused biased qkv and proj, and a patch merger (norm, then Linear(4·d, 4·d),
    /// GELU, Linear(4·d, out)) with biases. Qwen2-VL blocks use LayerNorms with bias and a GELU MLP of
    /// mlp_ratio·d; Qwen2.5-VL uses RMSNorms and a biased SwiGLU MLP of intermediate_size
    /// (transformers modeling_qwen2_vl.py / modeling_qwen2_5_vl.py).
    /// </summary>
    public static long QwenVit(HfConfig v, bool qwen25, int textHidden)
    {
        long d = qwen25 ? v.Int("hidden_size") ?? 1280 : v.Int("embed_dim") ?? 1280;
        long depth = v.Int("depth") ?? 32, channels = v.Int("in_chans") ?? v.Int("in_channels") ?? 3;
        long patch = v.Int("patch_size") ?? v.Int("spatial_patch_size") ?? 14, temporal = v.Int("temporal_patch_size") ?? 2;
        long merge = v.Int("spatial_merge_size") ?? 2;
        long outDim = qwen25 ? v.Int("out_hidden_size") ?? textHidden : v.Int("hidden_size") ?? textHidden;
        long norm = qwen25 ? d : 2 * d;
        long mlp = qwen25
            ? 3 * (d * (v.Int("intermediate_size") ?? 3420)) + 2 * (v.Int("intermediate_size") ?? 3420) + d
            : (long)(d * (v.Double("mlp_ratio") ?? 4)) * d * 2 + (long)(d * (v.Double("mlp_ratio") ?? 4)) + d;
        long block = 2 * norm + (d * 3 * d + 3 * d) + (d * d + d) + mlp;
        long mergedWidth = d * merge * merge;
        long merger = norm + (mergedWidth * mergedWidth + mergedWidth) + (mergedWidth * outDim + outDim);
        return channels * temporal * patch * patch * d + depth * block + merger;
    }
}
