using System.Collections.Immutable;
using System.Text.Json;
using VramFit.Errors;
using VramFit.Models;

namespace VramFit.Sources.Safetensors;

/// <summary>
/// A whole safetensors checkpoint (one file or every shard of <c>model.safetensors.index.json</c>): its
/// tensors, the quantization scheme they follow, and the exact <see cref="Models.Checkpoint"/> with stored
/// bytes and logical (unpacked) parameters per tensor.
/// </summary>
public sealed class SafetensorsCheckpoint
{
    /// <summary>The index file of sharded checkpoints (transformers SAFE_WEIGHTS_INDEX_NAME).</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>The single-file name (transformers SAFE_WEIGHTS_NAME).</summary>
    public const string SingleFileName = "model.safetensors";

    private SafetensorsCheckpoint(ImmutableArray<SafetensorsFile> shards, SafetensorsQuantization? quantization)
    {
        Shards = shards;
        Quantization = quantization;
        Tensors = shards.SelectMany(s => s.Tensors).ToImmutableArray();
        var checkpointTensors = Tensors.Select(t => new CheckpointTensor(
            t.Name, t.Dtype, HfTensorNames.LayerOf(t.Name), t.Elements, t.Bytes,
            SafetensorsLogicalParameters.Of(t, quantization)));
        Checkpoint = new Checkpoint(CheckpointFormat.Safetensors, checkpointTensors, quantization?.Method ?? DominantDtype(Tensors));
    }

    /// <summary>Headers of every file, in shard order.</summary>
    public ImmutableArray<SafetensorsFile> Shards { get; }

    /// <summary>Every tensor of every shard.</summary>
    public ImmutableArray<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The quantization scheme, or null for an unquantized checkpoint.</summary>
    public SafetensorsQuantization? Quantization { get; }

    /// <summary>Tensors with exact stored bytes and logical parameters; <see cref="Checkpoint.FileTypeName"/> is the
    /// quantization method or the dominant dtype.</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>Stored elements grouped by dtype, largest first.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> ElementsByDtype() => Tensors
        .GroupBy(t => t.Dtype, StringComparer.Ordinal)
        .Select(g => new KeyValuePair<string, long>(g.Key, g.Sum(t => t.Elements)))
        .OrderByDescending(p => p.Value)
        .ToList();

    /// <summary>Combines shard headers; <paramref name="quantizationConfig"/> is config.json's <c>quantization_config</c>.</summary>
    public static SafetensorsCheckpoint FromShards(IReadOnlyList<SafetensorsFile> shards, JsonElement? quantizationConfig = null)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in shards)
            foreach (var t in s.Tensors)
                if (!names.Add(t.Name))
                    throw new InvalidFileFormatException("safetensors", 8, $"tensor '{t.Name}' appears in more than one shard", s.Path);
        var all = shards.SelectMany(s => s.Tensors).ToList();
        return new SafetensorsCheckpoint([.. shards], SafetensorsQuantization.Detect(quantizationConfig, all));
    }

    /// <summary>
    /// Reads the checkpoint in <paramref name="directory"/>: the shards named by <c>model.safetensors.index.json</c>,
    /// else <c>model.safetensors</c>, else every <c>*.safetensors</c> file. Returns null when there is none.
    /// </summary>
    public static SafetensorsCheckpoint? ReadFolder(string directory, JsonElement? quantizationConfig = null)
    {
        var index = Path.Combine(directory, IndexFileName);
        List<string> files;
        SafetensorsIndex? parsedIndex = null;
        if (File.Exists(index))
        {
            parsedIndex = SafetensorsIndex.Parse(ReadText(index), index);
            files = parsedIndex.ShardFiles.Select(f => Path.Combine(directory, f)).ToList();
            foreach (var f in files)
                if (!File.Exists(f))
                    throw new VramFitException($"{directory}: shard '{Path.GetFileName(f)}' named by {IndexFileName} is missing");
        }
        else if (File.Exists(Path.Combine(directory, SingleFileName)))
        {
            files = [Path.Combine(directory, SingleFileName)];
        }
        else
        {
            files = Directory.EnumerateFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        }

        if (files.Count == 0)
            return null;
        var shards = files.Select((f, i) => SafetensorsReader.ReadFile(f, i)).ToList();
        parsedIndex?.CheckAgainst(shards, index);
        return FromShards(shards, quantizationConfig);
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

    private static string? DominantDtype(ImmutableArray<SafetensorsTensorInfo> tensors) => tensors.IsEmpty
        ? null
        : tensors.GroupBy(t => t.Dtype, StringComparer.Ordinal).MaxBy(g => g.Sum(t => t.Bytes))!.Key;
}
