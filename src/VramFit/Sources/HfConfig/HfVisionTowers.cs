using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// The vision encoders (and their projectors into the language model) that multimodal checkpoints carry next to the
/// decoder: parameter counts, whose layouts follow the transformers modules named below, and the shape engines
/// profile with (<see cref="VisionEncoderShape"/>), both read from vision_config once.
/// </summary>
internal static class HfVisionTowers
{
    /// <summary>
    /// SigLIP vision transformer as used by Gemma-3 (transformers SiglipVisionModel without head) plus
    /// Gemma3MultiModalProjector (mm_input_projection_weight [vision, text], mm_soft_emb_norm [vision]), which pools
    /// every image to <paramref name="tokensPerImage"/> soft tokens. Defaults are SiglipVisionConfig's.
    /// </summary>
    public static (long Parameters, VisionEncoderShape Shape) Siglip(HfConfig v, int textHidden, int tokensPerImage)
    {
        int h = v.Int("hidden_size") ?? 768, ffn = v.Int("intermediate_size") ?? 3072;
        long layers = v.Int("num_hidden_layers") ?? 12;
        int channels = v.Int("num_channels") ?? 3, patch = v.Int("patch_size") ?? 16, image = v.Int("image_size") ?? 224;
        long positions = (image / patch) * (image / patch);
        long embeddings = (long)channels * patch * patch * h + h + positions * h;       // conv with bias + position table
        long block = 2 * (2L * h)                                                       // layer_norm1/2 weight + bias
            + 4 * ((long)h * h + h)                                                     // q, k, v, out_proj with bias
            + ((long)h * ffn + ffn) + ((long)ffn * h + h);                              // fc1, fc2 with bias
        long tower = embeddings + layers * block + 2L * h;                              // + post_layernorm
        long projector = (long)h * textHidden + h;
        int tokens = Math.Max(1, tokensPerImage);
        return (tower + projector, new VisionEncoderShape(h, ffn, false, channels * patch * patch, (int)Math.Max(1, positions / tokens), tokens));
    }

    /// <summary>
    /// Qwen2-VL / Qwen2.5-VL ViT: a bias-free Conv3d patch embedding (in_chans × temporal_patch_size ×
    /// patch_size²), blocks with fused biased qkv and proj, and a patch merger (norm, then Linear(4·d, 4·d),
    /// GELU, Linear(4·d, out)) with biases. Qwen2-VL blocks use LayerNorms with bias and a GELU MLP of
    /// mlp_ratio·d; Qwen2.5-VL uses RMSNorms and a biased SwiGLU MLP of intermediate_size
    /// (transformers modeling_qwen2_vl.py / modeling_qwen2_5_vl.py). The processors' default max_pixels,
    /// 12,845,056 (preprocessor_config.json), over 28 × 28 pixels per merged token give 16,384 tokens for the
    /// largest image.
    /// </summary>
    public static (long Parameters, VisionEncoderShape Shape) QwenVit(HfConfig v, bool qwen25, int textHidden)
    {
        int d = qwen25 ? v.Int("hidden_size") ?? 1280 : v.Int("embed_dim") ?? 1280;
        int ffn = qwen25 ? v.Int("intermediate_size") ?? 3420 : (int)(d * (v.Double("mlp_ratio") ?? 4));
        long depth = v.Int("depth") ?? 32;
        int channels = v.Int("in_chans") ?? v.Int("in_channels") ?? 3;
        int patch = v.Int("patch_size") ?? v.Int("spatial_patch_size") ?? 14, temporal = v.Int("temporal_patch_size") ?? 2;
        int merge = v.Int("spatial_merge_size") ?? 2;
        long outDim = qwen25 ? v.Int("out_hidden_size") ?? textHidden : v.Int("hidden_size") ?? textHidden;
        long norm = qwen25 ? d : 2L * d;
        long mlp = qwen25 ? 3L * d * ffn + 2L * ffn + d : 2L * ffn * d + ffn + d;
        long block = 2 * norm + (3L * d * d + 3L * d) + ((long)d * d + d) + mlp;
        long mergedWidth = (long)d * merge * merge;
        long merger = norm + (mergedWidth * mergedWidth + mergedWidth) + (mergedWidth * outDim + outDim);
        int input = channels * temporal * patch * patch;
        return ((long)input * d + depth * block + merger,
            new VisionEncoderShape(d, ffn, qwen25, input, merge * merge, 12_845_056 / (patch * merge * patch * merge)));
    }

    /// <summary>
    /// Qwen3-VL ViT (transformers modeling_qwen3_vl.py Qwen3VLVisionModel): a biased Conv3d patch embedding, a learned
    /// position table of num_position_embeddings, blocks with biased LayerNorms, fused biased qkv and proj and a biased
    /// GELU MLP of intermediate_size, the patch merger (LayerNorm over the ViT width, Linear(4·d, 4·d), Linear(4·d, out))
    /// and one DeepStack merger per deepstack_visual_indexes entry (LayerNorm over 4·d, same two linears). The
    /// processor's default longest_edge of 16,777,216 pixels over 32 × 32 pixels per merged token gives 16,384 tokens
    /// for the largest image.
    /// </summary>
    public static (long Parameters, VisionEncoderShape Shape) Qwen3Vit(HfConfig v, int textHidden)
    {
        int d = v.Int("hidden_size") ?? 1152, ffn = v.Int("intermediate_size") ?? 4304;
        long depth = v.Int("depth") ?? 27;
        int channels = v.Int("in_channels") ?? 3, patch = v.Int("patch_size") ?? 16, temporal = v.Int("temporal_patch_size") ?? 2;
        int merge = v.Int("spatial_merge_size") ?? 2;
        long positions = v.Int("num_position_embeddings") ?? 2304;
        long outDim = v.Int("out_hidden_size") ?? textHidden;
        long block = 2 * (2L * d) + (3L * d * d + 3L * d) + ((long)d * d + d) + ((long)d * ffn + ffn) + ((long)ffn * d + d);
        long wide = (long)d * merge * merge;
        long linears = (wide * wide + wide) + (wide * outDim + outDim);
        long deepstack = (v.IntArray("deepstack_visual_indexes") ?? []).Length;
        int input = channels * temporal * patch * patch;
        return ((long)input * d + d + positions * d + depth * block + (2L * d + linears) + deepstack * (2 * wide + linears),
            new VisionEncoderShape(d, ffn, false, input, merge * merge, 16_777_216 / (patch * merge * patch * merge)));
    }

    /// <summary>
    /// Pixtral vision encoder (transformers modeling_pixtral.py) with Mistral3MultiModalProjector: a bias-free patch
    /// convolution, ln_pre RMSNorm, blocks of RMSNorms, bias-free q/k/v/o and a gated SiLU MLP (gate, up, down) of
    /// intermediate_size; the projector's RMSNorm, the patch merger's Linear(d·merge², d) and linear_1 (d → text) and
    /// linear_2 (text → text), biased only with multimodal_projector_bias. The largest image is one image_size square.
    /// </summary>
    public static (long Parameters, VisionEncoderShape Shape) Pixtral(HfConfig v, int textHidden, int spatialMerge, bool projectorBias)
    {
        int d = v.Int("hidden_size") ?? 1024, ffn = v.Int("intermediate_size") ?? 4096;
        long layers = v.Int("num_hidden_layers") ?? 24;
        int channels = v.Int("num_channels") ?? 3, patch = v.Int("patch_size") ?? 16, side = (v.Int("image_size") ?? 1024) / patch;
        int merge = Math.Max(1, spatialMerge);
        long block = 2L * d + 4L * d * d + 3L * d * ffn;
        long tower = (long)channels * patch * patch * d + d + layers * block;
        long bias = projectorBias ? 1 : 0;
        long projector = d + (long)merge * merge * d * d + ((long)d * textHidden + bias * textHidden) + ((long)textHidden * textHidden + bias * textHidden);
        return (tower + projector, new VisionEncoderShape(d, ffn, true, channels * patch * patch, merge * merge, side / merge * (side / merge)));
    }
}
