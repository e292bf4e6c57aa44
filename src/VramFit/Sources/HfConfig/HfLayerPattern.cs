using VramFit.Errors;

namespace VramFit.Sources.HfConfig;

/// <summary>What token mixer a layer uses, as config.json <c>layer_types</c> spells it.</summary>
internal enum HfLayerType
{
    Full,
    Sliding,
    Linear,
}

/// <summary>
/// Per-layer attention patterns. Newer configs list them in <c>layer_types</c>; older ones give a period
/// (Gemma-3 <c>sliding_window_pattern</c>, Cohere2, Qwen3-Next <c>full_attention_interval</c>), which the
/// transformers model code expands the same way as here.
/// </summary>
internal static class HfLayerPattern
{
    /// <summary>
    /// The layer types from <c>layer_types</c> when present, else <paramref name="fallback"/> applied to each index.
    /// A list whose length differs from <c>num_hidden_layers</c> is a contradiction and is rejected.
    /// </summary>
    public static HfLayerType[] Read(HfConfig c, int layers, Func<int, HfLayerType> fallback)
    {
        var names = c.StringArray("layer_types");
        if (names is null)
            return Enumerable.Range(0, layers).Select(fallback).ToArray();
        if (names.Length != layers)
            throw new ModelDescriptionException($"layer_types: {names.Length} entries but num_hidden_layers is {layers}");
        return names.Select(Parse).ToArray();
    }

    /// <summary>
    /// "Every n-th layer is global" (Gemma-3, Cohere2: layer i is full iff (i + 1) % n == 0; transformers
    /// Gemma3TextConfig / Cohere2Config build layer_types this way).
    /// </summary>
    public static Func<int, HfLayerType> EveryNthFull(int n, HfLayerType other) =>
        n <= 0
            ? throw new ModelDescriptionException($"sliding_window_pattern / full_attention_interval: must be positive, got {n}")
            : i => (i + 1) % n == 0 ? HfLayerType.Full : other;

    private static HfLayerType Parse(string name) => name switch
    {
        "full_attention" or "attention" or "global" => HfLayerType.Full,
        "sliding_attention" or "sliding_window" or "local" => HfLayerType.Sliding,
        "linear_attention" or "mamba" or "linear" => HfLayerType.Linear,
        _ => throw new ModelDescriptionException($"layer_types: unknown layer type '{name}'"),
    };
}
