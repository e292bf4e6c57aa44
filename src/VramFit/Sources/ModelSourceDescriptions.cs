using VramFit.Errors;
using VramFit.Models;
using VramFit.Sources.Gguf;
using VramFit.Sources.HfConfig;
using VramFit.Sources.Safetensors;

namespace VramFit.Sources;

/// <summary>Builds the <see cref="ModelSource"/> of what was read, shared by local, cache and Hub sources.</summary>
internal static class ModelSourceDescriptions
{
    public static ModelSource FromGguf(GgufFile gguf, string spec, ModelSourceKind kind, string origin, string fallbackName, ModelSourceOptions options)
    {
        ModelDescription? description = null;
        VramFitException? error = null;
        string name = gguf.Metadata.GetString("general.name") is { Length: > 0 } n ? n : fallbackName;
        if (options.TranslateGguf is { } translate)
        {
            try
            {
                description = translate(gguf.Metadata, name);
                description = description.WithName(description.Name, origin);
                if (description.Checkpoint is null)
                    description = description.WithCheckpoint(gguf.Checkpoint);
            }
            catch (VramFitException e)
            {
                error = e;
            }
        }
        else
        {
            error = new ModelDescriptionException($"{origin}: no GGUF translator configured; the header was read but not described");
        }

        return new ModelSource
        {
            Spec = spec, Kind = kind, Origin = origin, Gguf = gguf, Checkpoint = gguf.Checkpoint,
            Description = description, DescriptionError = error,
        };
    }

    public static ModelSource FromHf(HfConfig.HfConfig config, SafetensorsCheckpoint? checkpoint, string spec, ModelSourceKind kind, string origin, string name)
    {
        ModelDescription? description = null;
        VramFitException? error = null;
        try
        {
            description = HfConfigReader.Read(config, name, origin);
            if (checkpoint is not null)
            {
                if (description.CheckpointFormat is null && checkpoint.Quantization?.Format is { } format)
                    description = description.WithFormat(format);
                description = description.WithCheckpoint(checkpoint.Checkpoint);
            }
        }
        catch (VramFitException e)
        {
            error = e;
        }

        return new ModelSource
        {
            Spec = spec, Kind = kind, Origin = origin, Config = config, Safetensors = checkpoint,
            Checkpoint = checkpoint?.Checkpoint, Description = description, DescriptionError = error,
        };
    }

    /// <summary>
    /// The one GGUF model among <paramref name="files"/>: vision projectors (mmproj-*) and split parts after the
    /// first are not candidates. Several candidates → an error listing them.
    /// </summary>
    public static string? PickGguf(IEnumerable<string> files, string where)
    {
        var candidates = files
            .Where(f => f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            .Where(f => !Path.GetFileName(f).StartsWith("mmproj", StringComparison.OrdinalIgnoreCase))
            .Where(f => !GgufSplits.TryParseName(f, out int index, out _) || index == 0)
            .Order(StringComparer.Ordinal)
            .ToList();
        return candidates.Count switch
        {
            0 => null,
            1 => candidates[0],
            _ => throw new VramFitException(
                $"{where} holds {candidates.Count} GGUF models ({string.Join(", ", candidates.Take(8).Select(Path.GetFileName))}{(candidates.Count > 8 ? ", …" : "")}); name one, e.g. {where}:{Path.GetFileName(candidates[0])}"),
        };
    }
}
