using VramFit.Errors;
using VramFit.Models;
using VramFit.Sources.Hub;
using VramFit.Sources.Local;

namespace VramFit.Sources;

/// <summary>
/// Resolves what a user typed into a model: in order, a local path (.gguf file, folder, config.json), a
/// snapshot in the Hugging Face cache, the built-in catalog, and the Hugging Face Hub
/// (<c>org/name[@revision][:file]</c>). A revision or file in the spec skips the catalog.
/// </summary>
public static class ModelSources
{
    /// <summary>
    /// A model from headers already in memory (the web page sends what the browser read): config.json text and
    /// the JSON header of each safetensors shard with the shard's real size, so tensor offsets are checked
    /// against the whole file. No weights are needed.
    /// </summary>
    public static ModelSource FromHeaders(string configJson, IReadOnlyList<(string Name, long FileSize, string HeaderJson)> shards, string name)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var config = HfConfig.HfConfig.Parse(configJson, name);
        var files = new List<Safetensors.SafetensorsFile>(shards.Count);
        for (int i = 0; i < shards.Count; i++)
        {
            var (shardName, size, header) = shards[i];
            files.Add(Safetensors.SafetensorsReader.Parse(System.Text.Encoding.UTF8.GetBytes(header), shardName, size, i));
        }

        var checkpoint = files.Count == 0 ? null
            : Safetensors.SafetensorsCheckpoint.FromShards(files, config.Element("quantization_config"));
        return ModelSourceDescriptions.FromHf(config, checkpoint, name, ModelSourceKind.Folder, "upload", name);
    }

    /// <summary>Opens <paramref name="spec"/>; throws a <see cref="VramFitException"/> with a one-line reason when nothing matches.</summary>
    public static ModelSource Open(string spec, ModelSourceOptions? options = null)
    {
        options ??= new ModelSourceOptions();
        var text = (spec ?? "").Trim();
        if (text.Length == 0)
            throw new InvalidSettingException("model", "empty model name or path");
        var path = ExpandHome(text, options);
        if (File.Exists(path) || Directory.Exists(path))
            return LocalModelReader.Open(path, text, options);

        bool hubShaped = HubModelSpec.TryParse(text, out var hubSpec);
        if (hubShaped)
        {
            var cacheRoot = HfCache.Root(options);
            if (HfCache.TryResolve(cacheRoot, hubSpec, out var snapshot))
            {
                var target = hubSpec.File is null ? snapshot : Path.Combine(snapshot, hubSpec.File);
                if (File.Exists(target) || Directory.Exists(target))
                    return LocalModelReader.Open(target, text, options) with { Kind = ModelSourceKind.HfCache };
            }
        }

        bool plainId = !hubShaped || (hubSpec.File is null && !text.Contains('@', StringComparison.Ordinal));
        if (plainId && (options.PreferCatalog || !hubShaped || options.IsOffline) && ModelCatalog.TryFind(text) is { } catalogModel)
        {
            return new ModelSource
            {
                Spec = text,
                Kind = ModelSourceKind.Catalog,
                Origin = "catalog",
                Description = catalogModel.Describe(),
            };
        }

        if (LooksLikePath(text))
            throw new VramFitException($"{text}: no such file or folder");
        if (!hubShaped)
        {
            ModelCatalog.Find(text);   // throws, naming close matches
            throw new CatalogLookupException($"'{text}' is not a path or a model id");
        }

        if (options.IsOffline)
            throw new VramFitException(
                $"{text}: not a local path, not in the Hugging Face cache ({HfCache.Root(options)}) and not in the catalog; --offline forbids fetching it from the Hub");
        using var client = new HubClient(options.EffectiveHub());
        return HubModelReader.Open(client, hubSpec, text, options);
    }

    private static string ExpandHome(string text, ModelSourceOptions options)
    {
        if (text == "~" || text.StartsWith("~/", StringComparison.Ordinal))
        {
            var home = options.Env("HOME") ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, text.Length > 2 ? text[2..] : "");
        }

        return text;
    }

    private static bool LooksLikePath(string text) =>
        text.StartsWith('.') || text.StartsWith('/') || text.StartsWith('~') || text.Contains('\\', StringComparison.Ordinal)
        || text.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && !text.Contains(':', StringComparison.Ordinal)
        || text.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !text.Contains(':', StringComparison.Ordinal)
        || text.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !text.Contains(':', StringComparison.Ordinal);
}
