using System.Collections.Immutable;
using System.Text.Json;
using VramFit.Errors;

namespace VramFit.Sources.Safetensors;

/// <summary><c>model.safetensors.index.json</c>: <c>{"metadata": {"total_size": N}, "weight_map": {tensor: file}}</c>.</summary>
public sealed record SafetensorsIndex(long? TotalSize, ImmutableDictionary<string, string> WeightMap)
{
    /// <summary>Distinct shard file names in the order they first appear, sorted (the -00001-of-0000N order).</summary>
    public ImmutableArray<string> ShardFiles => WeightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToImmutableArray();

    public static SafetensorsIndex Parse(string json, string? path = null)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidFileFormatException("safetensors index", 0, "no weight_map object", path);
            long? total = root.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object
                && m.TryGetProperty("total_size", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out long v) ? v : null;
            var b = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                string file = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : "";
                // A shard name is a plain file name; anything with a path separator could escape the model folder.
                if (file.Length == 0 || file.Contains('/') || file.Contains('\\') || file is "." or "..")
                    throw new InvalidFileFormatException("safetensors index", 0, $"weight_map['{p.Name}'] is not a file name", path);
                b[p.Name] = file;
            }

            return new SafetensorsIndex(total, b.ToImmutable());
        }
        catch (JsonException e)
        {
            throw new InvalidFileFormatException("safetensors index", e.BytePositionInLine ?? 0, $"not valid JSON ({e.Message.Split('.')[0]})", path);
        }
    }

    /// <summary>Every tensor the index names must be in the shard it names.</summary>
    public void CheckAgainst(IReadOnlyList<SafetensorsFile> shards, string? path)
    {
        var where = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in shards)
            foreach (var t in s.Tensors)
                where[t.Name] = System.IO.Path.GetFileName(s.Path ?? "");
        foreach (var (tensor, file) in WeightMap)
        {
            if (!where.TryGetValue(tensor, out var actual))
                throw new InvalidFileFormatException("safetensors index", 0, $"tensor '{tensor}' is listed in {file} but no shard holds it", path);
            if (!string.Equals(actual, file, StringComparison.Ordinal) && actual.Length > 0)
                throw new InvalidFileFormatException("safetensors index", 0, $"tensor '{tensor}' is listed in {file} but stored in {actual}", path);
        }
    }
}
