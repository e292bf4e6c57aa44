using VramFit.Errors;
using VramFit.Sources.Gguf;
using VramFit.Sources.Safetensors;

namespace VramFit.Sources.Local;

/// <summary>Opens a model on disk: a .gguf file, a config.json, a .safetensors file, or a folder holding them.</summary>
internal static class LocalModelReader
{
    public static ModelSource Open(string path, string spec, ModelSourceOptions options)
    {
        if (Directory.Exists(path))
            return OpenFolder(Path.GetFullPath(path), spec, options);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? ".";
        var name = Path.GetFileName(full);
        if (name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var gguf = GgufReader.ReadFile(full, options.GgufRead);
            var modelName = GgufSplits.TryParseName(name, out _, out _) ? name[..name.LastIndexOf('-', name.LastIndexOf("-of-", StringComparison.Ordinal) - 1)] : Path.GetFileNameWithoutExtension(name);
            return ModelSourceDescriptions.FromGguf(gguf, spec, ModelSourceKind.GgufFile, full, modelName, options);
        }

        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            var config = HfConfig.HfConfig.Parse(ReadText(full), full);
            return ModelSourceDescriptions.FromHf(config, null, spec, ModelSourceKind.ConfigFile, full, FolderName(dir));
        }

        if (name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var configPath = Path.Combine(dir, "config.json");
            var config = File.Exists(configPath) ? HfConfig.HfConfig.Parse(ReadText(configPath), configPath) : null;
            var checkpoint = SafetensorsCheckpoint.FromShards([SafetensorsReader.ReadFile(full)], config?.Element("quantization_config"));
            if (config is null)
                return new ModelSource { Spec = spec, Kind = ModelSourceKind.Folder, Origin = full, Safetensors = checkpoint, Checkpoint = checkpoint.Checkpoint,
                    DescriptionError = new ModelDescriptionException($"{full}: no config.json next to it, so the architecture is unknown") };
            return ModelSourceDescriptions.FromHf(config, checkpoint, spec, ModelSourceKind.Folder, full, FolderName(dir));
        }

        throw new VramFitException($"{full}: not a model file (expected .gguf, config.json, .safetensors or a folder)");
    }

    private static ModelSource OpenFolder(string dir, string spec, ModelSourceOptions options)
    {
        var configPath = Path.Combine(dir, "config.json");
        if (File.Exists(configPath))
        {
            var config = HfConfig.HfConfig.Parse(ReadText(configPath), configPath);
            var checkpoint = SafetensorsCheckpoint.ReadFolder(dir, config.Element("quantization_config"));
            if (checkpoint is not null || ModelSourceDescriptions.PickGguf(Directory.EnumerateFiles(dir), dir) is null)
                return ModelSourceDescriptions.FromHf(config, checkpoint, spec, ModelSourceKind.Folder, dir, FolderName(dir));
        }

        if (ModelSourceDescriptions.PickGguf(Directory.EnumerateFiles(dir), dir) is { } gguf)
            return Open(gguf, spec, options) with { Kind = ModelSourceKind.Folder };
        if (SafetensorsCheckpoint.ReadFolder(dir) is { } bare)
            return new ModelSource { Spec = spec, Kind = ModelSourceKind.Folder, Origin = dir, Safetensors = bare, Checkpoint = bare.Checkpoint,
                DescriptionError = new ModelDescriptionException($"{dir}: safetensors without config.json, so the architecture is unknown") };
        throw new VramFitException($"{dir}: no config.json, .safetensors or .gguf files in this folder");
    }

    /// <summary>The model's name from its folder; for a cache snapshot, the repo id ("org/name").</summary>
    private static string FolderName(string dir)
    {
        var parent = Path.GetDirectoryName(dir);
        var grandparent = parent is null ? null : Path.GetDirectoryName(parent);
        if (parent is not null && grandparent is not null && Path.GetFileName(parent) == "snapshots"
            && Path.GetFileName(grandparent) is { } repoFolder && repoFolder.StartsWith("models--", StringComparison.Ordinal))
            return repoFolder["models--".Length..].Replace("--", "/", StringComparison.Ordinal);
        return Path.GetFileName(dir);
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VramFitException($"{path}: {e.Message}", e);
        }
    }
}
