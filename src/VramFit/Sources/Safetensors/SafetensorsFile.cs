using System.Collections.Immutable;

namespace VramFit.Sources.Safetensors;

/// <summary>One tensor of a safetensors header.</summary>
/// <param name="Dtype">dtype as stored ("BF16", "I32", "F8_E4M3").</param>
/// <param name="Begin">Start of the data, relative to the data section.</param>
/// <param name="End">End (exclusive) of the data.</param>
/// <param name="Shard">Index of the file holding it in a sharded checkpoint (0 for a single file).</param>
public sealed record SafetensorsTensorInfo(string Name, string Dtype, ImmutableArray<long> Shape, long Begin, long End, int Shard)
{
    public long Elements
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
                n *= d;
            return n;
        }
    }

    /// <summary>Stored bytes (End − Begin, checked against dtype × shape by the reader).</summary>
    public long Bytes => End - Begin;
}

/// <summary>The parsed header of one .safetensors file.</summary>
/// <param name="Path">Where it was read from (path or URL).</param>
/// <param name="HeaderLength">Length of the JSON header (the 8-byte prefix not included).</param>
/// <param name="Metadata">The optional <c>__metadata__</c> string map.</param>
public sealed record SafetensorsFile(string? Path, long HeaderLength, ImmutableArray<SafetensorsTensorInfo> Tensors, ImmutableDictionary<string, string> Metadata)
{
    /// <summary>Absolute offset of the data section.</summary>
    public long DataOffset => 8 + HeaderLength;

    /// <summary>Sum of tensor bytes.</summary>
    public long DataLength => Tensors.IsEmpty ? 0 : Tensors.Max(t => t.End);
}
