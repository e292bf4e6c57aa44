using System.Collections.Immutable;
using VramFit.Numerics;

namespace VramFit.Sources.Gguf;

/// <summary>
/// Reads GGUF headers (versions 2 and 3) from a stream, forward only: magic, version, counts, metadata,
/// tensor infos. Every count and length is checked against what remains and against sane limits before
/// anything is allocated; malformed input raises <see cref="Errors.InvalidFileFormatException"/> with the offset.
/// Layout: ggml/docs/gguf.md; checks mirror ggml/src/gguf.cpp <c>gguf_init_from_file_impl</c>.
/// </summary>
public static class GgufReader
{
    /// <summary>"GGUF" read as a little-endian uint32 (gguf.h GGUF_MAGIC).</summary>
    private const uint Magic = 0x46554747;

    // gguf.h GGUF_DEFAULT_ALIGNMENT.
    private const int DefaultAlignment = 32;

    // ggml.h GGML_MAX_DIMS and GGML_MAX_NAME: gguf.cpp rejects more dimensions and names of ≥ 64 bytes.
    private const int MaxDims = 4;
    private const int MaxNameBytes = 63;

    // Smallest encodings, used to bound counts by the bytes that remain:
    // a key/value is key length (8) + type (4) + a 1-byte value; a tensor info is name length (8) +
    // n_dims (4) + one dimension (8) + type (4) + offset (8).
    private const long MinKeyValueBytes = 13;
    private const long MinTensorInfoBytes = 32;

    /// <summary>Reads the header of one GGUF file (no split handling) from a stream positioned at its start.</summary>
    /// <param name="stream">Any readable stream; it need not seek.</param>
    /// <param name="path">Path or URL for error messages.</param>
    /// <param name="length">Total length of the file when known; enables the "past the end" checks.</param>
    public static GgufFile Read(Stream stream, string? path = null, long? length = null, GgufReadOptions? options = null)
    {
        options ??= GgufReadOptions.Default;
        if (length is null && stream.CanSeek)
            length = stream.Length - stream.Position;
        var reader = new GgufByteReader(stream, path, length);
        return ReadPart(reader, path, 0, options);
    }

    /// <summary>
    /// Reads a GGUF file from disk. A split model (<c>name-00001-of-00003.gguf</c>, or <c>split.count</c> &gt; 1)
    /// is read whole: every part's header, tensors merged; a missing part is an error naming it.
    /// </summary>
    public static GgufFile ReadFile(string path, GgufReadOptions? options = null)
    {
        var first = ReadSingleFile(path, options);
        var count = first.Metadata.GetLong(GgufSplits.CountKey) ?? 1;
        if (count <= 1 && !GgufSplits.TryParseName(path, out _, out _))
            return first;
        var paths = GgufSplits.PartPaths(path, first);
        var parts = new List<GgufFile>(paths.Count);
        foreach (var p in paths)
        {
            if (string.Equals(Path.GetFullPath(p), Path.GetFullPath(path), StringComparison.Ordinal))
                parts.Add(first);
            else if (!File.Exists(p))
                throw new Errors.VramFitException($"{path}: split GGUF part '{Path.GetFileName(p)}' is missing (expected {paths.Count} parts next to each other)");
            else
                parts.Add(ReadSingleFile(p, options));
        }

        return GgufSplits.Merge(parts);
    }

    private static GgufFile ReadSingleFile(string path, GgufReadOptions? options)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Errors.VramFitException($"{path}: {e.Message}", e);
        }

        using (stream)
            return Read(stream, path, stream.Length, options);
    }

    private static GgufFile ReadPart(GgufByteReader r, string? path, int part, GgufReadOptions options)
    {
        if (r.Length is < 4)
            throw r.Error($"file is {r.Length} bytes, too short for a GGUF header");
        uint magic = r.ReadUInt32("magic");
        if (magic != Magic)
            throw r.Error($"not a GGUF file (magic 0x{magic:X8}, expected 'GGUF')", 0);
        uint version = r.ReadUInt32("version");
        if (version == 1)
            throw r.Error("GGUF version 1 is not supported (llama.cpp dropped it in 2023); re-convert the model", 4);
        if (version is not (2 or 3))
        {
            bool bigEndian = (version & 0xFFFF) == 0 && System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(version) is 2 or 3;
            throw r.Error(bigEndian ? "big-endian GGUF files are not supported" : $"unsupported GGUF version {version} (2 and 3 are supported)", 4);
        }

        long tensorCount = ReadCount(r, "tensor count", options.MaxTensorCount, MinTensorInfoBytes);
        long kvCount = ReadCount(r, "metadata key/value count", options.MaxMetadataCount, MinKeyValueBytes);

        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        var skipped = ImmutableDictionary.CreateBuilder<string, GgufSkippedArray>(StringComparer.Ordinal);
        var metadataReader = new GgufMetadataReader(r, options);
        for (long i = 0; i < kvCount; i++)
        {
            long keyOffset = r.Position;
            string key = r.ReadString(r.ReadUInt64("key length"), 1 << 16, "metadata key");
            if (values.ContainsKey(key) || skipped.ContainsKey(key))
                throw r.Error($"duplicate metadata key '{key}'", keyOffset);
            var type = metadataReader.ReadType(key);
            if (type == GgufValueType.Array && !options.KeepTokenizerArrays && key.StartsWith("tokenizer.ggml.", StringComparison.Ordinal))
            {
                var (elementType, count) = metadataReader.SkipArray(key);
                skipped[key] = new GgufSkippedArray(elementType.Name(), count);
                if (key == GgufNames.TokensKey)
                    values[GgufNames.VocabSizeKey] = count;
                continue;
            }

            var value = metadataReader.ReadValue(type, key, depth: 0);
            values[key] = value;
            if (key == GgufNames.TokensKey && value is GgufArray tokens)
                values[GgufNames.VocabSizeKey] = (long)tokens.Count;
        }

        int alignment = ReadAlignment(r, values);
        var tensors = ReadTensorInfos(r, tensorCount, part);
        long headerEnd = r.Position;
        long dataOffset = checked((headerEnd + alignment - 1) / alignment * alignment);
        CheckTensorPlacement(r, tensors, dataOffset, alignment);
        var partInfo = new GgufPart(path, (int)version, dataOffset, tensors.Length, r.Length);
        return new GgufFile((int)version, new GgufMetadata(values), tensors, alignment, [partInfo], skipped.ToImmutable());
    }

    private static long ReadCount(GgufByteReader r, string what, long max, long minBytesEach)
    {
        long offset = r.Position;
        ulong count = r.ReadUInt64(what);
        if (count > (ulong)max)
            throw r.Error($"{what} {count} exceeds the limit of {max}", offset);
        if (r.Remaining is { } left && (long)count > left / minBytesEach)
            throw r.Error($"{what} {count} cannot fit in the {left} bytes that remain", offset);
        return (long)count;
    }

    private static int ReadAlignment(GgufByteReader r, Dictionary<string, object> values)
    {
        if (!values.TryGetValue("general.alignment", out var raw))
            return DefaultAlignment;
        // gguf.cpp: the alignment must be a non-zero power of two.
        if (raw is long a && a > 0 && a <= 1 << 30 && (a & (a - 1)) == 0)
            return (int)a;
        throw r.Error($"general.alignment {raw} is not a power of two");
    }

    private static ImmutableArray<GgufTensorInfo> ReadTensorInfos(GgufByteReader r, long count, int part)
    {
        var tensors = ImmutableArray.CreateBuilder<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        Span<long> dims = stackalloc long[MaxDims];
        for (long i = 0; i < count; i++)
        {
            long infoOffset = r.Position;
            ulong nameLength = r.ReadUInt64("tensor name length");
            if (nameLength > MaxNameBytes)
                throw r.Error($"tensor {i}: name of {nameLength} bytes is longer than ggml's {MaxNameBytes}", infoOffset);
            string name = r.ReadString(nameLength, MaxNameBytes, "tensor name");
            if (!names.Add(name))
                throw r.Error($"duplicate tensor name '{name}'", infoOffset);
            uint nDims = r.ReadUInt32(name);
            if (nDims > MaxDims)
                throw r.Error($"tensor '{name}' has {nDims} dimensions (at most {MaxDims} allowed)");
            long elements = 1;
            dims[0] = 1;   // a 0-dimensional tensor is a scalar (ggml fills missing ne with 1)
            for (int d = 0; d < nDims; d++)
            {
                ulong ne = r.ReadUInt64(name);
                if (ne > long.MaxValue || (ne > 0 && elements > long.MaxValue / (long)ne))
                    throw r.Error($"tensor '{name}' has {ne} elements in dimension {d}; the element count overflows");
                dims[d] = (long)ne;
                elements *= (long)ne;
            }

            long typeOffset = r.Position;
            uint typeId = r.ReadUInt32(name);
            if (typeId > int.MaxValue || !GgmlTypes.TryGet((int)typeId, out var traits))
                throw r.Error($"tensor '{name}' has unknown ggml type id {typeId}", typeOffset);
            if (dims[0] % traits.BlockSize != 0)
                throw r.Error($"tensor '{name}': row of {dims[0]} elements is not a multiple of {traits.Name}'s block size {traits.BlockSize}", typeOffset);
            long offset = (long)Math.Min(r.ReadUInt64(name), long.MaxValue);
            long rows = dims[0] == 0 ? 0 : elements / dims[0];
            long bytes;
            try
            {
                bytes = checked(traits.RowBytes(dims[0]) * rows);
            }
            catch (OverflowException)
            {
                throw r.Error($"tensor '{name}': byte size overflows");
            }

            tensors.Add(new GgufTensorInfo(name, traits, [.. dims[..(int)Math.Max(nDims, 1u)]], offset, bytes, part));
        }

        return tensors.ToImmutable();
    }

    /// <summary>
    /// Tensor data must be laid out as gguf.cpp requires: in declaration order, each tensor at the running
    /// size of the ones before it padded to the alignment ("tensor '%s' has offset %llu, expected %zu"),
    /// and inside the file (a shorter file fails to load).
    /// </summary>
    private static void CheckTensorPlacement(GgufByteReader r, ImmutableArray<GgufTensorInfo> tensors, long dataOffset, int alignment)
    {
        long expected = 0;
        string? previous = null;
        foreach (var t in tensors)
        {
            if (t.Offset % alignment != 0)
                throw r.Error($"tensor '{t.Name}' data offset {t.Offset} is not a multiple of the alignment {alignment}");
            if (t.Offset < expected)
                throw r.Error($"tensor '{t.Name}' data at {t.Offset} overlaps tensor '{previous}' (which ends at {expected})");
            if (t.Offset > expected)
                throw r.Error($"tensor '{t.Name}' data offset {t.Offset}, expected {expected}: tensors must follow each other in order");
            if (t.Bytes > long.MaxValue - dataOffset - t.Offset - alignment)
                throw r.Error($"tensor '{t.Name}' of {t.Bytes} bytes is beyond any file size");
            long end = t.Offset + t.Bytes;
            if (r.Length is { } length && dataOffset + end > length)
                throw r.Error($"tensor '{t.Name}' data ends at byte {dataOffset + end}, past the end of the {length}-byte file");
            expected = (end + alignment - 1) / alignment * alignment;
            previous = t.Name;
        }
    }
}
