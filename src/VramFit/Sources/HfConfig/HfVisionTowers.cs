using VramFit.Models;

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

    /// <summary>
    /// Qwen3-VL ViT (transformers modeling_qwen3_vl.py Qwen3VLVisionModel): a biased Conv3d patch embedding, a learned
    /// position table of num_position_embeddings, blocks with biased LayerNorms, fused biased qkv and proj and a biased
    /// GELU MLP of intermediate_size, the patch merger (LayerNorm over the ViT width, Linear(4·d, 4·d), Linear(4·d, out))
    /// and one DeepStack merger per deepstack_visual_indexes entry (LayerNorm over 4·d, same two linears).
    /// </summary>
    public static long Qwen3Vit(HfConfig v, int textHidden)
    {
        long d = v.Int("hidden_size") ?? 1152, depth = v.Int("depth") ?? 27, ffn = v.Int("intermediate_size") ?? 4304;
        long channels = v.Int("in_channels") ?? 3, patch = v.Int("patch_size") ?? 16, temporal = v.Int("temporal_patch_size") ?? 2;
        long merge = v.Int("spatial_merge_size") ?? 2, positions = v.Int("num_position_embeddings") ?? 2304;
        long outDim = v.Int("out_hidden_size") ?? textHidden;
        long block = 2 * (2 * d) + (d * 3 * d + 3 * d) + (d * d + d) + (d * ffn + ffn) + (ffn * d + d);
        long wide = d * merge * merge;
        long linears = (wide * wide + wide) + (wide * outDim + outDim);
        long deepstack = (v.IntArray("deepstack_visual_indexes") ?? []).Length;
        return channels * temporal * patch * patch * d + d + positions * d + depth * block
            + (2 * d + linears) + deepstack * (2 * wide + linears);
    }

    /// <summary>
    /// Pixtral vision encoder (transformers modeling_pixtral.py) with Mistral3MultiModalProjector: a bias-free patch
    /// convolution, ln_pre RMSNorm, blocks of RMSNorms, bias-free q/k/v/o and a gated SiLU MLP (gate, up, down) of
    /// intermediate_size; the projector's RMSNorm, the patch merger's Linear(d·merge², d) and linear_1 (d → text) and
    /// linear_2 (text → text), biased only with multimodal_projector_bias.
    /// </summary>
    public static long Pixtral(HfConfig v, int textHidden, int spatialMerge, bool projectorBias)
    {
        long d = v.Int("hidden_size") ?? 1024, layers = v.Int("num_hidden_layers") ?? 24, ffn = v.Int("intermediate_size") ?? 4096;
        long channels = v.Int("num_channels") ?? 3, patch = v.Int("patch_size") ?? 16;
        long block = 2 * d + 4 * d * d + 3 * d * ffn;
        long tower = channels * patch * patch * d + d + layers * block;
        long bias = projectorBias ? 1 : 0;
        long projector = d + (long)spatialMerge * spatialMerge * d * d + (d * textHidden + bias * textHidden) + ((long)textHidden * textHidden + bias * textHidden);
        return tower + projector;
    }

    /// <summary>
    /// Qwen2-VL / Qwen2.5-VL ViT shape. The processors' default max_pixels, 12,845,056 (preprocessor_config.json), over
    /// 28 × 28 pixels per merged token give 16,384 tokens for the largest image.
    /// </summary>
    public static VisionEncoderShape QwenVitShape(HfConfig v, bool qwen25)
    {
        int d = qwen25 ? v.Int("hidden_size") ?? 1280 : v.Int("embed_dim") ?? 1280;
        int ffn = qwen25 ? v.Int("intermediate_size") ?? 3420 : (int)(d * (v.Double("mlp_ratio") ?? 4));
        int patch = v.Int("patch_size") ?? v.Int("spatial_patch_size") ?? 14, merge = v.Int("spatial_merge_size") ?? 2;
        int input = (v.Int("in_chans") ?? v.Int("in_channels") ?? 3) * (v.Int("temporal_patch_size") ?? 2) * patch * patch;
        return new VisionEncoderShape(d, ffn, qwen25, input, merge * merge, 12_845_056 / (patch * merge * patch * merge));
    }

    /// <summary>
    /// Qwen3-VL ViT shape: the processor's default longest_edge of 16,777,216 pixels over 32 × 32 pixels per merged
    /// token gives 16,384 tokens for the largest image.
    /// </summary>
    public static VisionEncoderShape Qwen3VitShape(HfConfig v)
    {
        int patch = v.Int("patch_size") ?? 16, merge = v.Int("spatial_merge_size") ?? 2;
        int input = (v.Int("in_channels") ?? 3) * (v.Int("temporal_patch_size") ?? 2) * patch * patch;
        return new VisionEncoderShape(v.Int("hidden_size") ?? 1152, v.Int("intermediate_size") ?? 4304, false, input, merge * merge,
            16_777_216 / (patch * merge * patch * merge));
    }

    /// <summary>Pixtral shape: one image_size square of patches, merged spatial_merge_size² into a token.</summary>
    public static VisionEncoderShape PixtralShape(HfConfig v, int spatialMerge)
    {
        int patch = v.Int("patch_size") ?? 16, side = (v.Int("image_size") ?? 1024) / patch;
        int merge = Math.Max(1, spatialMerge);
        return new VisionEncoderShape(v.Int("hidden_size") ?? 1024, v.Int("intermediate_size") ?? 4096, true,
            (v.Int("num_channels") ?? 3) * patch * patch, merge * merge, side / merge * (side / merge));
    }

    /// <summary>SigLIP shape as Gemma-3 uses it: image_size² patches pooled to mm_tokens_per_image (256).</summary>
    public static VisionEncoderShape SiglipShape(HfConfig v, int tokensPerImage)
    {
        int patch = v.Int("patch_size") ?? 16, side = (v.Int("image_size") ?? 224) / patch;
        int tokens = Math.Max(1, tokensPerImage);
        return new VisionEncoderShape(v.Int("hidden_size") ?? 768, v.Int("intermediate_size") ?? 3072, false,
            (v.Int("num_channels") ?? 3) * patch * patch, Math.Max(1, side * side / tokens), tokens);
    }
}
