namespace VramFit.Sources.Gguf;

/// <summary>Limits and choices of <see cref="GgufReader"/>. The defaults read every real model seen so far.</summary>
public sealed record GgufReadOptions
{
    /// <summary>Keep <c>tokenizer.ggml.*</c> arrays (tokens, scores, merges). Off: they are counted and skipped,
    /// which keeps a 256k-token header from costing tens of MB of strings.</summary>
    public bool KeepTokenizerArrays { get; init; }

    /// <summary>Largest accepted metadata string (chat templates are tens of KB).</summary>
    public long MaxStringBytes { get; init; } = 64L << 20;

    /// <summary>Largest accepted tensor count. The biggest published GGUFs have a few thousand tensors.</summary>
    public long MaxTensorCount { get; init; } = 1 << 20;

    /// <summary>Largest accepted key/value count.</summary>
    public long MaxMetadataCount { get; init; } = 1 << 20;

    /// <summary>Largest accepted element count of an array (vocabularies are ≤ 1M tokens; the limit is far above).</summary>
    public long MaxArrayCount { get; init; } = 1L << 28;

    /// <summary>Deepest accepted nesting of arrays of arrays.</summary>
    public int MaxArrayDepth { get; init; } = 4;

    /// <summary>The defaults.</summary>
    public static GgufReadOptions Default { get; } = new();
}
