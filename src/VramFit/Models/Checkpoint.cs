using System.Collections.Immutable;

namespace VramFit.Models;

/// <summary>File format a checkpoint was read from.</summary>
public enum CheckpointFormat
{
    Gguf,
    Safetensors,
}

/// <summary>
/// One stored tensor of a real checkpoint: exact bytes as stored (packed, with scales as separate tensors),
/// and the logical parameters it represents (unpacked; 0 for scale/zero-point/index side tensors).
/// </summary>
/// <param name="Type">Storage type as the file names it: ggml type ("q4_K", "f16") or safetensors dtype ("BF16", "I32").</param>
/// <param name="Layer">Block index parsed from the name, or -1.</param>
/// <param name="Offset">Offset of the data within its file's data section (GGUF), or -1 when unknown (the tensors are
/// then taken to be stored back to back in list order).</param>
/// <param name="Part">Index of the split file holding the data (0 for a single file).</param>
public sealed record CheckpointTensor(string Name, string Type, int Layer, long Elements, long Bytes, long LogicalParameters, long Offset = -1, int Part = 0);

/// <summary>
/// The exact tensors of a checkpoint as read from its headers. Engines use these bytes instead of any
/// formula: "exact tensor sizes beat any formula".
/// </summary>
public sealed class Checkpoint
{
    public Checkpoint(CheckpointFormat format, IEnumerable<CheckpointTensor> tensors, string? fileTypeName = null)
    {
        Format = format;
        Tensors = tensors.ToImmutableArray();
        FileTypeName = fileTypeName;
        long bytes = 0, parameters = 0;
        foreach (var t in Tensors)
        {
            bytes = checked(bytes + t.Bytes);
            parameters = checked(parameters + t.LogicalParameters);
        }

        TotalBytes = bytes;
        LogicalParameters = parameters;
    }

    public CheckpointFormat Format { get; }

    public ImmutableArray<CheckpointTensor> Tensors { get; }

    /// <summary>GGUF file type ("Q4_K_M") or quantization method, if known.</summary>
    public string? FileTypeName { get; }

    /// <summary>Sum of stored tensor bytes.</summary>
    public long TotalBytes { get; }

    /// <summary>Sum of logical (unpacked) parameters.</summary>
    public long LogicalParameters { get; }

    /// <summary>Stored bytes grouped by storage type, largest first.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> BytesByType() => Tensors
        .GroupBy(t => t.Type, StringComparer.Ordinal)
        .Select(g => new KeyValuePair<string, long>(g.Key, g.Sum(t => t.Bytes)))
        .OrderByDescending(p => p.Value)
        .ToList();

    /// <summary>Stored bytes of each block (index = layer); tensors outside blocks are not included.</summary>
    public long[] BytesByLayer(int layerCount)
    {
        var bytes = new long[layerCount];
        foreach (var t in Tensors)
            if (t.Layer >= 0 && t.Layer < layerCount)
                bytes[t.Layer] += t.Bytes;
        return bytes;
    }
}
