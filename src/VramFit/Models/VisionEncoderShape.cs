namespace VramFit.Models;

/// <summary>
/// What a serving engine's profile run needs of a multimodal checkpoint's vision transformer: its width, its MLP, the
/// pixels one patch carries in, how many patches merge into one language-model token, and the most tokens one
/// image yields under the processor's default size limits.
/// </summary>
/// <param name="Hidden">ViT width (vision_config hidden_size / embed_dim).</param>
/// <param name="Intermediate">ViT MLP width (intermediate_size, or mlp_ratio × width).</param>
/// <param name="GatedMlp">The MLP is gated (SwiGLU: gate and up projections), else fc1 → activation → fc2.</param>
/// <param name="InputElementsPerPatch">Pixel values per patch (channels × temporal_patch_size × patch_size²).</param>
/// <param name="PatchesPerToken">Patches merged into one output token (spatial_merge_size²).</param>
/// <param name="MaxTokensPerImage">Tokens of the largest image the default processor settings allow.</param>
public sealed record VisionEncoderShape(int Hidden, int Intermediate, bool GatedMlp, int InputElementsPerPatch, int PatchesPerToken, int MaxTokensPerImage);
