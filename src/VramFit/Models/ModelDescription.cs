using System.Collections.Immutable;
using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Models;

/// <summary>
/// The architecture-neutral description of an LLM that every source (HF config.json, GGUF, safetensors,
/// the catalog) is translated into and every engine model reads. Per-layer: whole-model numbers are derived
/// from <see cref="Layers"/>, never stored twice. An instance that exists is valid: the constructor checks
/// every field and throws <see cref="ModelDescriptionException"/> naming the field.
/// </summary>
public sealed class ModelDescription
{
    /// <summary>The largest hidden size, vocabulary or layer count accepted; beyond is treated as absurd input.</summary>
    private const int AbsurdDimension = 1 << 24;

    public ModelDescription(
        string architecture,
        int hiddenSize,
        int vocabSize,
        IEnumerable<LayerSpec> layers,
        bool tiedEmbeddings = false,
        int maxContext = 0,
        ScalarType dtype = ScalarType.BF16,
        NormKind normKind = NormKind.RmsNorm,
        int learnedPositions = 0,
        bool outputBias = false,
        WeightFormat? checkpointFormat = null,
        Checkpoint? checkpoint = null,
        string? name = null,
        string? source = null,
        long visionEncoderParameters = 0,
        VisionEncoderShape? visionEncoder = null)
    {
        Architecture = string.IsNullOrWhiteSpace(architecture)
            ? throw new ModelDescriptionException("architecture: missing")
            : architecture;
        HiddenSize = Positive(hiddenSize, "hidden_size");
        VocabSize = Positive(vocabSize, "vocab_size");
        Layers = layers?.ToImmutableArray() ?? throw new ModelDescriptionException("layers: missing");
        if (Layers.IsEmpty)
            throw new ModelDescriptionException("num_hidden_layers: must be at least 1");
        if (Layers.Length > AbsurdDimension)
            throw new ModelDescriptionException($"num_hidden_layers: {Layers.Length} is absurd");
        if (maxContext < 0)
            throw new ModelDescriptionException($"max_position_embeddings: {maxContext} is negative");
        if (learnedPositions < 0)
            throw new ModelDescriptionException($"learned positions: {learnedPositions} is negative");
        TiedEmbeddings = tiedEmbeddings;
        MaxContext = maxContext;
        Dtype = dtype;
        NormKind = normKind;
        LearnedPositions = learnedPositions;
        OutputBias = outputBias;
        CheckpointFormat = checkpointFormat;
        Checkpoint = checkpoint;
        Name = name ?? architecture;
        Source = source;
        VisionEncoder = visionEncoder;
        VisionEncoderParameters = visionEncoderParameters >= 0
            ? visionEncoderParameters
            : throw new ModelDescriptionException($"vision encoder parameters: {visionEncoderParameters} is negative");
        for (int i = 0; i < Layers.Length; i++)
        {
            ValidateLayer(Layers[i], i);
            attentionKinds |= 1 << (int)Layers[i].Attention.Kind;
        }
    }

    private readonly int attentionKinds;

    /// <summary>Whether any layer mixes tokens with <paramref name="kind"/> (known once, for the estimators' hot paths).</summary>
    public bool HasLayers(AttentionKind kind) => (attentionKinds & (1 << (int)kind)) != 0;

    /// <summary>Architecture family, in Hugging Face <c>model_type</c> spelling ("llama", "qwen3_moe", "deepseek_v3").</summary>
    public string Architecture { get; }

    /// <summary>Display name or id ("meta-llama/Llama-3.1-8B").</summary>
    public string Name { get; }

    /// <summary>Where the description came from (catalog, a path, a Hub id), for reports.</summary>
    public string? Source { get; }

    public int HiddenSize { get; }

    public int VocabSize { get; }

    /// <summary>Every block in order, including NextN/MTP blocks at the end.</summary>
    public ImmutableArray<LayerSpec> Layers { get; }

    /// <summary>The output head reuses the token embedding matrix.</summary>
    public bool TiedEmbeddings { get; }

    /// <summary>Trained context length (max_position_embeddings); 0 if unknown.</summary>
    public int MaxContext { get; }

    /// <summary>The checkpoint's dense dtype (torch_dtype), used for unquantized tensors.</summary>
    public ScalarType Dtype { get; }

    /// <summary>RMSNorm or LayerNorm, for the final norm (layer norms are per <see cref="LayerSpec"/>).</summary>
    public NormKind NormKind { get; }

    /// <summary>Rows of a learned absolute position embedding (GPT-2: 1024); 0 with RoPE/ALiBi.</summary>
    public int LearnedPositions { get; }

    /// <summary>The output head has a bias (rare).</summary>
    public bool OutputBias { get; }

    /// <summary>Quantization of the checkpoint as declared by its config (GPTQ, AWQ, FP8 …), if any.</summary>
    public WeightFormat? CheckpointFormat { get; }

    /// <summary>Exact tensors read from a real file (GGUF, safetensors), when the source had them.</summary>
    public Checkpoint? Checkpoint { get; }

    /// <summary>
    /// Parameters of a multimodal checkpoint's vision tower and projector (Gemma-3 SigLIP, Qwen2.5-VL ViT),
    /// which engines such as vLLM load next to the language model; 0 for text-only models. Not part of
    /// the per-layer description nor of <see cref="TensorInventory"/>, which cover the language model only.
    /// </summary>
    public long VisionEncoderParameters { get; }

    /// <summary>The vision transformer's shape, where the source describes one (HF vision_config); null otherwise.</summary>
    public VisionEncoderShape? VisionEncoder { get; }

    /// <summary>Blocks that run during decoding (all but NextN/MTP blocks).</summary>
    public int RepeatingLayerCount
    {
        get
        {
            int n = 0;
            foreach (var l in Layers)
                if (!l.IsNextN)
                    n++;
            return n;
        }
    }

    /// <summary>True if any layer is a mixture of experts.</summary>
    public bool IsMoE => Layers.Any(l => l.Mlp.Kind == MlpKind.MoE);

    /// <summary>Returns a copy with a different checkpoint format (e.g. "what if this model were AWQ-4bit").</summary>
    public ModelDescription WithFormat(WeightFormat? format) => new(
        Architecture, HiddenSize, VocabSize, Layers, TiedEmbeddings, MaxContext, Dtype, NormKind,
        LearnedPositions, OutputBias, format, Checkpoint, Name, Source, VisionEncoderParameters, VisionEncoder);

    /// <summary>Returns a copy carrying the exact tensors of a real checkpoint.</summary>
    public ModelDescription WithCheckpoint(Checkpoint? checkpoint) => new(
        Architecture, HiddenSize, VocabSize, Layers, TiedEmbeddings, MaxContext, Dtype, NormKind,
        LearnedPositions, OutputBias, CheckpointFormat, checkpoint, Name, Source, VisionEncoderParameters, VisionEncoder);

    /// <summary>Returns a copy whose dense tensors are stored in <paramref name="dtype"/> (torch_dtype override).</summary>
    public ModelDescription WithDtype(ScalarType dtype) => new(
        Architecture, HiddenSize, VocabSize, Layers, TiedEmbeddings, MaxContext, dtype, NormKind,
        LearnedPositions, OutputBias, CheckpointFormat, Checkpoint, Name, Source, VisionEncoderParameters, VisionEncoder);

    /// <summary>Returns a copy with another name and source.</summary>
    public ModelDescription WithName(string name, string? source) => new(
        Architecture, HiddenSize, VocabSize, Layers, TiedEmbeddings, MaxContext, Dtype, NormKind,
        LearnedPositions, OutputBias, CheckpointFormat, Checkpoint, name, source ?? Source, VisionEncoderParameters, VisionEncoder);

    private static int Positive(int value, string field) => value switch
    {
        <= 0 => throw new ModelDescriptionException($"{field}: must be positive, got {value}"),
        > AbsurdDimension => throw new ModelDescriptionException($"{field}: {value} is absurd"),
        _ => value,
    };

    private static void ValidateLayer(LayerSpec layer, int index)
    {
        var a = layer.Attention;
        string Where(string field) => $"layer {index}: {field}";
        if (a is null)
            throw new ModelDescriptionException(Where("attention: missing"));
        if (layer.Mlp is null)
            throw new ModelDescriptionException(Where("mlp: missing"));
        switch (a.Kind)
        {
            case AttentionKind.Full or AttentionKind.SlidingWindow:
                Require(a.HeadCount > 0 && a.HeadCount <= AbsurdDimension, Where($"num_attention_heads must be positive, got {a.HeadCount}"));
                Require(a.KvHeadCount > 0 && a.KvHeadCount <= a.HeadCount, Where($"num_key_value_heads must be between 1 and num_attention_heads ({a.HeadCount}), got {a.KvHeadCount}"));
                Require(a.HeadCount % a.KvHeadCount == 0, Where($"num_attention_heads ({a.HeadCount}) is not a multiple of num_key_value_heads ({a.KvHeadCount})"));
                Require(a.KeyHeadDim > 0 && a.KeyHeadDim <= 65536, Where($"head_dim must be positive, got {a.KeyHeadDim}"));
                Require(a.ValueHeadDim > 0 && a.ValueHeadDim <= 65536, Where($"value head_dim must be positive, got {a.ValueHeadDim}"));
                if (a.Kind == AttentionKind.SlidingWindow)
                    Require(a.SlidingWindow > 0, Where($"sliding_window must be positive, got {a.SlidingWindow}"));
                break;
            case AttentionKind.Mla:
                Require(a.Mla is not null, Where("MLA layer without kv_lora_rank/qk_rope_head_dim"));
                Require(a.HeadCount > 0, Where($"num_attention_heads must be positive, got {a.HeadCount}"));
                var m = a.Mla!;
                Require(m.KvLoraRank > 0, Where($"kv_lora_rank must be positive, got {m.KvLoraRank}"));
                Require(m.QkRopeHeadDim > 0, Where($"qk_rope_head_dim must be positive, got {m.QkRopeHeadDim}"));
                Require(m.QkNopHeadDim >= 0 && m.VHeadDim > 0 && m.QLoraRank >= 0, Where("qk_nope_head_dim / v_head_dim / q_lora_rank out of range"));
                break;
            case AttentionKind.Recurrent:
                Require(a.Recurrent is not null, Where("recurrent layer without its state sizes"));
                var r = a.Recurrent!;
                Require(r.InnerSize > 0 && r.StateSize >= 0 && r.ConvKernel >= 0, Where("recurrent inner/state/conv sizes out of range"));
                break;
        }

        var f = layer.Mlp;
        switch (f.Kind)
        {
            case MlpKind.Dense:
                Require(f.FfnSize > 0, Where($"intermediate_size must be positive, got {f.FfnSize}"));
                break;
            case MlpKind.MoE:
                Require(f.ExpertCount > 0 && f.ExpertCount <= 1 << 16, Where($"num_experts must be positive, got {f.ExpertCount}"));
                Require(f.ActiveExpertCount > 0 && f.ActiveExpertCount <= f.ExpertCount,
                    Where($"num_experts_per_tok must be between 1 and num_experts ({f.ExpertCount}), got {f.ActiveExpertCount}"));
                Require(f.ExpertFfnSize > 0, Where($"moe_intermediate_size must be positive, got {f.ExpertFfnSize}"));
                Require(f.SharedExpertCount >= 0 && (f.SharedExpertCount == 0 || f.SharedExpertFfnSize > 0),
                    Where("shared experts need a positive shared_expert_intermediate_size"));
                break;
        }

        Require(layer.NormCount >= 0 && layer.NormCount <= 8, Where($"norm count {layer.NormCount} out of range"));
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new ModelDescriptionException(message);
    }
}
