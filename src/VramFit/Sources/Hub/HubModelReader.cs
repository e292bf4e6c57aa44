using VramFit.Errors;
using VramFit.Sources.Gguf;
using VramFit.Sources.Safetensors;

namespace VramFit.Sources.Hub;

/// <summary>
/// Reads a model from the Hub by its headers only: the revision's file list, config.json, the safetensors
/// index and each shard's header (one Range request per shard in the common case), or a GGUF header read
/// incrementally (every part of a split GGUF).
/// </summary>
internal static class HubModelReader
{
    public static ModelSource Open(HubClient client, HubModelSpec spec, string text, ModelSourceOptions options)
    {
        var revision = client.GetRevision(spec.Repo, spec.Revision);
        // Pin every later request to the commit the revision resolved to, so files come from one snapshot.
        string rev = revision.Sha is { Length: > 0 } sha ? sha : spec.Revision;
        var files = revision.Files;
        string where = spec.Revision == HubModelSpec.DefaultRevision ? spec.Repo : $"{spec.Repo}@{spec.Revision}";

        if (spec.File is { } file)
        {
            if (!files.Contains(file, StringComparer.Ordinal))
                throw new HubException($"file '{file}' not found in {where} (it has {files.Count} files{Suggest(files, file)})");
            if (file.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                return ReadGguf(client, spec, rev, file, files, text, options);
            if (file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                return ReadSafetensors(client, spec, rev, [file], files, text);
            if (Path.GetFileName(file) == "config.json")
                return ReadSafetensors(client, spec, rev, [], files, text, configFile: file);
            throw new VramFitException($"{where}:{file}: not a model file (expected .gguf, .safetensors or config.json)");
        }

        bool hasConfig = files.Contains("config.json", StringComparer.Ordinal);
        var safetensors = files.Where(f => !f.Contains('/', StringComparison.Ordinal) && f.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        if (hasConfig && (safetensors.Count > 0 || ModelSourceDescriptions.PickGguf(files, where) is null))
            return ReadSafetensors(client, spec, rev, safetensors, files, text);
        if (ModelSourceDescriptions.PickGguf(files, where) is { } gguf)
            return ReadGguf(client, spec, rev, gguf, files, text, options);
        throw new VramFitException($"{where}: no config.json, .safetensors or .gguf files in this repository");
    }

    private static ModelSource ReadGguf(HubClient client, HubModelSpec spec, string rev, string file, IReadOnlyList<string> files, string text, ModelSourceOptions options)
    {
        var names = new List<string> { file };
        if (GgufSplits.TryParseName(file, out _, out int count))
        {
            var dir = file.Contains('/', StringComparison.Ordinal) ? file[..(file.LastIndexOf('/') + 1)] : "";
            var leaf = file[dir.Length..];
            names = Enumerable.Range(0, count).Select(i => dir + GgufSplits.PartName(leaf, i, count)).ToList();
            var missing = names.Where(n => !files.Contains(n, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0)
                throw new HubException($"{spec.Repo}: split GGUF part '{missing[0]}' is missing from the repository ({missing.Count} of {count} missing)");
        }

        var parts = new List<GgufFile>(names.Count);
        foreach (var name in names)
        {
            using var stream = client.OpenRead(spec.Repo, rev, name);
            parts.Add(GgufReader.Read(stream, stream.Url.ToString(), stream.TotalLength, options.GgufRead));
        }

        var merged = GgufSplits.Merge(parts);
        string modelName = Path.GetFileNameWithoutExtension(file);
        var origin = client.ResolveUrl(spec.Repo, spec.Revision, file).ToString();
        return ModelSourceDescriptions.FromGguf(merged, text, ModelSourceKind.Hub, origin, modelName, options);
    }

    private static ModelSource ReadSafetensors(HubClient client, HubModelSpec spec, string rev, List<string> weightFiles,
        IReadOnlyList<string> files, string text, string configFile = "config.json")
    {
        var configText = client.GetText(spec.Repo, rev, configFile);
        var config = HfConfig.HfConfig.Parse(configText, $"{spec.Repo}/{configFile}");
        SafetensorsIndex? index = null;
        if (files.Contains(SafetensorsCheckpoint.IndexFileName, StringComparer.Ordinal) && weightFiles.Count > 1)
        {
            var indexUrl = $"{spec.Repo}/{SafetensorsCheckpoint.IndexFileName}";
            index = SafetensorsIndex.Parse(client.GetText(spec.Repo, rev, SafetensorsCheckpoint.IndexFileName), indexUrl);
            weightFiles = [.. index.ShardFiles];
            var missing = weightFiles.FirstOrDefault(f => !files.Contains(f, StringComparer.Ordinal));
            if (missing is not null)
                throw new HubException($"{spec.Repo}: shard '{missing}' named by {SafetensorsCheckpoint.IndexFileName} is not in the repository");
        }
        else if (weightFiles.Contains(SafetensorsCheckpoint.SingleFileName, StringComparer.Ordinal))
        {
            weightFiles = [SafetensorsCheckpoint.SingleFileName];
        }

        SafetensorsCheckpoint? checkpoint = null;
        if (weightFiles.Count > 0)
        {
            var shards = new List<SafetensorsFile>(weightFiles.Count);
            for (int i = 0; i < weightFiles.Count; i++)
            {
                using var stream = client.OpenRead(spec.Repo, rev, weightFiles[i]);
                shards.Add(SafetensorsReader.Read(stream, stream.Url.ToString(), stream.TotalLength, i));
            }

            index?.CheckAgainst(shards, $"{spec.Repo}/{SafetensorsCheckpoint.IndexFileName}");
            checkpoint = SafetensorsCheckpoint.FromShards(shards, config.Element("quantization_config"));
        }

        var origin = $"{client.Options.Endpoint}{spec.Repo}" + (spec.Revision == HubModelSpec.DefaultRevision ? "" : "@" + spec.Revision);
        return ModelSourceDescriptions.FromHf(config, checkpoint, text, ModelSourceKind.Hub, origin, spec.Repo);
    }

    private static string Suggest(IReadOnlyList<string> files, string wanted)
    {
        var ext = Path.GetExtension(wanted);
        var similar = files.Where(f => f.EndsWith(ext, StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        return similar.Count == 0 ? "" : "; e.g. " + string.Join(", ", similar);
    }
}
