using VramFit.Errors;
using VramFit.Models;
using VramFit.Sources.Gguf;
using VramFit.Sources.Hub;
using VramFit.Sources.Safetensors;

namespace VramFit.Sources;

/// <summary>Where a model came from.</summary>
public enum ModelSourceKind
{
    /// <summary>A local .gguf file (all parts of a split model).</summary>
    GgufFile,

    /// <summary>A local folder with config.json and safetensors (or GGUF) files.</summary>
    Folder,

    /// <summary>A local config.json alone: architecture without checkpoint.</summary>
    ConfigFile,

    /// <summary>A snapshot in the local Hugging Face cache.</summary>
    HfCache,

    /// <summary>The built-in model catalog.</summary>
    Catalog,

    /// <summary>The Hugging Face Hub, read by Range requests.</summary>
    Hub,
}

/// <summary>
/// A resolved model: what was read (GGUF header, safetensors headers, config.json) and the model description
/// built from it. <see cref="Description"/> is null when the files were read but cannot be translated (an
/// unsupported architecture, no GGUF translator): <see cref="DescriptionError"/> says why, and the raw
/// checkpoint is still there for inspection.
/// </summary>
public sealed record ModelSource
{
    /// <summary>The text the user gave.</summary>
    public required string Spec { get; init; }

    public required ModelSourceKind Kind { get; init; }

    /// <summary>The path, URL or "catalog" the model was read from.</summary>
    public required string Origin { get; init; }

    public ModelDescription? Description { get; init; }

    /// <summary>Why <see cref="Description"/> is null.</summary>
    public VramFitException? DescriptionError { get; init; }

    /// <summary>The GGUF header, for GGUF sources.</summary>
    public GgufFile? Gguf { get; init; }

    /// <summary>The safetensors headers, for safetensors sources.</summary>
    public SafetensorsCheckpoint? Safetensors { get; init; }

    /// <summary>Exact tensors, for sources with weight files.</summary>
    public Checkpoint? Checkpoint { get; init; }

    /// <summary>config.json, for Hugging Face sources.</summary>
    public HfConfig.HfConfig? Config { get; init; }

    /// <summary>The description, or the error that prevented it.</summary>
    public ModelDescription RequireDescription() => Description
        ?? throw DescriptionError ?? new ModelDescriptionException($"{Spec}: no model description could be built");
}

/// <summary>Options of <see cref="ModelSources.Open"/>.</summary>
public sealed record ModelSourceOptions
{
    /// <summary>Never touch the network (<c>--offline</c>): local paths, the HF cache and the catalog only.</summary>
    public bool Offline { get; init; }

    /// <summary>Hub endpoint, token, timeouts; null reads <c>HF_ENDPOINT</c>/<c>HF_TOKEN</c> from <see cref="Environment"/>.</summary>
    public HubOptions? Hub { get; init; }

    /// <summary>Receives bytes downloaded from the Hub (overrides <see cref="HubOptions.Progress"/>).</summary>
    public IProgress<long>? Progress { get; init; }

    /// <summary>
    /// GGUF metadata → model description (<c>GgufModelTranslator.Translate</c>). Null leaves GGUF sources without
    /// a description (the header and checkpoint are still read).
    /// </summary>
    public Func<GgufMetadata, string?, ModelDescription>? TranslateGguf { get; init; }

    public GgufReadOptions? GgufRead { get; init; }

    /// <summary>The HF hub cache folder; null derives it from <c>HF_HUB_CACHE</c>, <c>HF_HOME</c> or ~/.cache/huggingface/hub.</summary>
    public string? HfCacheDirectory { get; init; }

    /// <summary>Environment lookup (tests replace it); null reads the process environment.</summary>
    public Func<string, string?>? Environment { get; init; }

    /// <summary>Uses the catalog before the Hub for plain <c>org/name</c> ids (default). Off: ids go to the Hub.</summary>
    public bool PreferCatalog { get; init; } = true;

    /// <summary><see cref="Offline"/>, or <c>HF_HUB_OFFLINE=1</c> in the environment (huggingface_hub constants.HF_HUB_OFFLINE).</summary>
    public bool IsOffline => Offline || Env("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "yes" or "YES" or "on" or "ON";

    internal Func<string, string?> Env => Environment ?? System.Environment.GetEnvironmentVariable;

    internal HubOptions EffectiveHub()
    {
        var hub = Hub ?? HubOptions.FromEnvironment(Env);
        return Progress is null ? hub : hub with { Progress = Progress };
    }
}
