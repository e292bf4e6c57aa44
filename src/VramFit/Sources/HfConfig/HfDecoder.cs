using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Pieces shared by the decoder-only families: the standard attention block read from the usual
/// config keys, a dense or MoE MLP, and the final <see cref="ModelDescription"/> assembly.
/// </summary>
internal static class HfDecoder
{
    /// <summary>
    /// Standard multi-head / grouped-query attention from hidden_size, num_attention_heads,
    /// num_key_value_heads (default: heads) and head_dim (default: hidden / heads).
    /// </summary>
    public static AttentionSpec Attention(HfConfig c, HfLayerType type, int window, bool qkvBias = false, bool outputBias = false, QkNormKind qkNorm = QkNormKind.None)
    {
        int hidden = c.RequireInt("hidden_size", "n_embd");
        int heads = c.RequireInt("num_attention_heads", "n_head");
        int kvHeads = c.Int("num_key_value_heads") ?? heads;
        int headDim = c.Int("head_dim") ?? hidden / heads;
        bool sliding = type == HfLayerType.Sliding;
        if (sliding && window <= 0)
            throw c.Missing("sliding_window");
        return new AttentionSpec
        {
            RotaryDims = RotaryDims(c, headDim),
            // Gemma-3's local layers rotate without the config's rope_scaling (vLLM gemma3.py passes None for them)
            RotaryPositions = sliding && c.Has("rope_local_base_freq") ? 0 : RotaryPositions(c),
            // Gemma-3's local layers rotate with their own base (rope_local_base_freq, transformers Gemma3TextConfig)
            RotaryBase = (sliding ? c.Double("rope_local_base_freq") : null) ?? c.Double("rope_theta") ?? 10000,
            Kind = sliding ? AttentionKind.SlidingWindow : AttentionKind.Full,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            KeyHeadDim = headDim,
            ValueHeadDim = headDim,
            SlidingWindow = sliding ? window : 0,
            QkvBias = qkvBias,
            OutputBias = outputBias,
            QkNorm = qkNorm,
        };
    }

    /// <summary>
    /// Head dimensions RoPE rotates: <c>rotary_dim</c> when given (GPT-J, CodeGen), else head_dim ×
    /// <c>partial_rotary_factor</c> (Phi, StableLM, Qwen3-Next) or × <c>rotary_pct</c> (GPT-NeoX), else all of them.
    /// </summary>
    public static int RotaryDims(HfConfig c, int headDim) =>
        c.Int("rotary_dim") ?? (int)(headDim * (c.Double("partial_rotary_factor") ?? c.Double("rotary_pct") ?? 1.0));

    /// <summary>
    /// Length of the cos/sin table vLLM's rotary embedding precomputes under <c>rope_scaling</c>
    /// (vllm/model_executor/layers/rotary_embedding): "linear" and "dynamic" cover max_position_embeddings × factor
    /// positions, "yarn" original_max_position_embeddings × factor; other types (llama3, longrope, mrope) and
    /// unscaled models use max_position_embeddings (0 here).
    /// </summary>
    public static int RotaryPositions(HfConfig c)
    {
        if (c.Section("rope_scaling") is not { } scaling || scaling.Double("factor") is not { } factor || factor <= 1)
            return 0;
        string type = (scaling.String("rope_type") ?? scaling.String("type") ?? "").ToLowerInvariant();
        long positions = type switch
        {
            "linear" or "dynamic" => c.Int("max_position_embeddings") is { } max ? (long)(max * factor) : 0,
            "yarn" => (scaling.Int("original_max_position_embeddings") ?? c.Int("max_position_embeddings")) is { } original ? (long)(original * factor) : 0,
            _ => 0,
        };
        return (int)Math.Clamp(positions, 0, int.MaxValue);
    }

    /// <summary>A gated (SwiGLU / GeGLU) dense MLP of <c>intermediate_size</c>.</summary>
    public static MlpSpec DenseMlp(HfConfig c, bool bias = false, bool gated = true, int? ffn = null) =>
        new() { Kind = MlpKind.Dense, FfnSize = ffn ?? c.RequireInt("intermediate_size"), Bias = bias, Gated = gated };

    /// <summary>
    /// The window of a model that slides on every layer when <c>sliding_window</c> is set
    /// (Mistral-7B-v0.1, Phi-3-mini, StarCoder2), 0 when it is null or absent.
    /// </summary>
    public static HfLayerType UniformType(HfConfig c) => (c.Int("sliding_window") ?? 0) > 0 ? HfLayerType.Sliding : HfLayerType.Full;

    /// <summary>Assembles the description with the fields every family reads the same way.</summary>
    public static ModelDescription Build(
        HfConfig c,
        IEnumerable<LayerSpec> layers,
        bool tiedByDefault = false,
        NormKind norm = NormKind.RmsNorm,
        int learnedPositions = 0,
        HfConfig? root = null,
        long visionParameters = 0,
        int? maxContext = null,
        int? vocab = null,
        bool outputBias = false,
        VisionEncoderShape? visionEncoder = null)
    {
        root ??= c;
        return new ModelDescription(
            (root.String("model_type") ?? c.ModelType),
            c.RequireInt("hidden_size", "n_embd"),
            vocab ?? c.RequireInt("vocab_size"),
            layers,
            tiedEmbeddings: c.Bool("tie_word_embeddings") ?? root.Bool("tie_word_embeddings") ?? tiedByDefault,
            maxContext: maxContext ?? c.Int("max_position_embeddings") ?? 0,
            dtype: c.Has("torch_dtype") || c.Has("dtype") ? c.Dtype : root.Dtype,
            normKind: norm,
            learnedPositions: learnedPositions,
            outputBias: outputBias,
            checkpointFormat: HfQuantization.Read(root, c.Has("torch_dtype") || c.Has("dtype") ? c.Dtype : root.Dtype),
            visionEncoderParameters: visionParameters,
            visionEncoder: visionEncoder);
    }

    /// <summary>
    /// A multimodal checkpoint around a decoder translated from its text_config: the root's model_type, dtype and
    /// quantization_config, the root's tie_word_embeddings unless text_config states one, and the vision encoder's parameters.
    /// </summary>
    public static ModelDescription Wrap(ModelDescription decoder, HfConfig root, long visionParameters, VisionEncoderShape? visionEncoder = null)
    {
        var text = root.Text;
        bool tied = text.Bool("tie_word_embeddings") ?? root.Bool("tie_word_embeddings") ?? decoder.TiedEmbeddings;
        var dtype = text.Has("torch_dtype") || text.Has("dtype") ? text.Dtype : root.Dtype;
        return new ModelDescription(root.ModelType, decoder.HiddenSize, decoder.VocabSize, decoder.Layers,
            tiedEmbeddings: tied, maxContext: decoder.MaxContext, dtype: dtype, normKind: decoder.NormKind,
            learnedPositions: decoder.LearnedPositions, outputBias: decoder.OutputBias,
            checkpointFormat: HfQuantization.Read(root, dtype) ?? decoder.CheckpointFormat, visionEncoderParameters: visionParameters,
            visionEncoder: visionEncoder);
    }
}
