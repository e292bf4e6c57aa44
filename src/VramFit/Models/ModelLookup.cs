using VramFit.Sources;

namespace VramFit.Models;

/// <summary>
/// Resolves what users type for a model — a catalog id, a config.json, a folder, a .gguf file, a model in the
/// local Hugging Face cache, or a Hub id (<c>org/name[@revision][:file.gguf]</c>) — into a description. The one
/// place the CLI and the web page turn a model name into a model (through <see cref="ModelSources"/>).
/// </summary>
public static class ModelLookup
{
    public const string Help =
        "A catalog id (see 'vramfit models'), a config.json, a folder, a .gguf file, or a Hugging Face id org/name[@rev][:file.gguf]";

    /// <summary>GGUF metadata → description (llama.cpp's per-architecture hyper-parameter keys).</summary>
    private static readonly Func<Sources.Gguf.GgufMetadata, string?, ModelDescription> TranslateGguf = Sources.Gguf.GgufModelTranslator.Translate;

    public static ModelDescription Resolve(string spec, bool offline = false, IProgress<long>? progress = null) =>
        Open(spec, offline, progress).RequireDescription();

    /// <summary>The whole source (headers, checkpoint, config) for <c>inspect</c>.</summary>
    public static ModelSource Open(string spec, bool offline = false, IProgress<long>? progress = null) =>
        ModelSources.Open(spec, new ModelSourceOptions { Offline = offline, Progress = progress, TranslateGguf = TranslateGguf });
}
