using System.Collections.Immutable;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Sources.Gguf;

/// <summary>One tensor described by a GGUF header.</summary>
/// <param name="Name">Tensor name ("blk.0.attn_q.weight").</param>
/// <param name="Type">Storage type with its block layout.</param>
/// <param name="Dimensions">ne[0..n): ne[0] is the contiguous (row) dimension, as ggml orders them.</param>
/// <param name="Offset">Offset of the data relative to the data section of its part.</param>
/// <param name="Bytes">Exact stored bytes: rows × ne[0] / block size × block bytes.</param>
/// <param name="Part">Index of the split part holding the data (0 for single files).</param>
public sealed record GgufTensorInfo(string Name, GgmlTypeTraits Type, ImmutableArray<long> Dimensions, long Offset, long Bytes, int Part)
{
    /// <summary>Number of elements (product of the dimensions).</summary>
    public long Elements
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions)
                n *= d;
            return n;
        }
    }

    /// <summary>Block index parsed from a "blk.N." prefix, or -1 for tensors outside the repeating blocks.</summary>
    public int Layer => GgufNames.LayerOf(Name);
}

/// <summary>One file of a (possibly split) GGUF model.</summary>
/// <param name="Path">Where it was read from (a path or a URL), when known.</param>
/// <param name="DataOffset">Absolute offset of the tensor data section (header end rounded up to the alignment).</param>
/// <param name="TensorCount">Tensors whose data this part holds.</param>
public sealed record GgufPart(string? Path, int Version, long DataOffset, int TensorCount, long? FileLength);

/// <summary>An array the reader counted but did not keep (tokenizer vocabularies, scores, merges).</summary>
public sealed record GgufSkippedArray(string ElementType, long Count);

/// <summary>
/// The header of a GGUF model: metadata, tensor infos and the exact checkpoint they describe. Reading stops
/// at the tensor data, which is never touched.
/// </summary>
public sealed class GgufFile
{
    internal GgufFile(
        int version,
        GgufMetadata metadata,
        ImmutableArray<GgufTensorInfo> tensors,
        int alignment,
        ImmutableArray<GgufPart> parts,
        ImmutableDictionary<string, GgufSkippedArray> skippedArrays)
    {
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        Parts = parts;
        SkippedArrays = skippedArrays;
        FileTypeName = GgufFileTypes.NameOf(metadata);
        var checkpointTensors = ImmutableArray.CreateBuilder<CheckpointTensor>(tensors.Length);
        foreach (var t in tensors)
        {
            long elements = t.Elements;
            checkpointTensors.Add(new CheckpointTensor(t.Name, t.Type.Name, t.Layer, elements, t.Bytes, elements, t.Offset, t.Part));
        }

        Checkpoint = new Checkpoint(CheckpointFormat.Gguf, checkpointTensors.MoveToImmutable(), FileTypeName);
    }

    /// <summary>GGUF format version (2 or 3).</summary>
    public int Version { get; }

    /// <summary>
    /// Key/value metadata. Skipped tokenizer arrays are absent, and the synthetic key <c>tokenizer.vocab_size</c>
    /// holds the length of <c>tokenizer.ggml.tokens</c> (the key JSON-described validation cases use).
    /// </summary>
    public GgufMetadata Metadata { get; }

    /// <summary>Every tensor of every part, in file order.</summary>
    public ImmutableArray<GgufTensorInfo> Tensors { get; }

    /// <summary>Data alignment (<c>general.alignment</c>, default 32).</summary>
    public int Alignment { get; }

    /// <summary>The files read: one, or every part of a split model in order.</summary>
    public ImmutableArray<GgufPart> Parts { get; }

    /// <summary>Arrays counted but not kept, by key.</summary>
    public ImmutableDictionary<string, GgufSkippedArray> SkippedArrays { get; }

    /// <summary>Sum of the parts' file sizes, when every size is known (what mmap maps and the disk holds).</summary>
    public long? FileBytes => Parts.All(p => p.FileLength is not null) ? Parts.Sum(p => p.FileLength!.Value) : null;

    /// <summary>Absolute offset of the first part's tensor data (its header size, padded).</summary>
    public long DataOffset => Parts[0].DataOffset;

    /// <summary>llama.cpp's name of <c>general.file_type</c> ("Q4_K_M"), or null when absent or unknown.</summary>
    public string? FileTypeName { get; }

    /// <summary>The tensors as a checkpoint (format GGUF, layers from "blk.N.", logical parameters = elements).</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>Tokenizer vocabulary size: the length of <c>tokenizer.ggml.tokens</c>, when present.</summary>
    public long? VocabSize => Metadata.GetLong(GgufNames.VocabSizeKey);
}

/// <summary>Names with a meaning to the reader.</summary>
public static class GgufNames
{
    /// <summary>Synthetic key holding the token count (validation case format, shared/validation/SCHEMA.md).</summary>
    public const string VocabSizeKey = "tokenizer.vocab_size";

    /// <summary>The token list whose length is the vocabulary size.</summary>
    public const string TokensKey = "tokenizer.ggml.tokens";

    /// <summary>Block index from a "blk.N." name prefix (llama.cpp's LLM_TENSOR names), or -1.</summary>
    public static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
            return -1;
        int i = 4, layer = 0;
        while (i < name.Length && char.IsAsciiDigit(name[i]) && layer < 10_000_000)
            layer = layer * 10 + (name[i++] - '0');
        return i > 4 && i < name.Length && name[i] == '.' ? layer : -1;
    }
}
