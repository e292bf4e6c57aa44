using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text.Json;
using VramFit.Errors;

namespace VramFit.Sources.Safetensors;

/// <summary>
/// Reads safetensors headers: an 8-byte little-endian length N, then N bytes of JSON mapping tensor names to
/// <c>{dtype, shape, data_offsets}</c>. Validation follows the reference loader (huggingface/safetensors,
/// safetensors/src/tensor.rs <c>Metadata::validate</c>): known dtypes, byte ranges that match dtype × shape,
/// data laid out contiguously from 0 with no gap or overlap, ending at the end of the file.
/// </summary>
public static class SafetensorsReader
{
    private const string Format = "safetensors";

    /// <summary>safetensors MAX_HEADER_SIZE (tensor.rs): larger headers are refused by the reference loader.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads the header of one file from a stream positioned at its start; the stream need not seek.</summary>
    /// <param name="length">Total file length when known: enables the end-of-data check.</param>
    /// <param name="shard">Shard index recorded on each tensor.</param>
    public static SafetensorsFile Read(Stream stream, string? path = null, long? length = null, int shard = 0)
    {
        if (length is null && stream.CanSeek)
            length = stream.Length - stream.Position;
        Span<byte> prefix = stackalloc byte[8];
        int got = ReadFully(stream, prefix);
        if (got < 8)
            throw new InvalidFileFormatException(Format, got, $"file ends after {got} bytes, inside the 8-byte header length", path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new InvalidFileFormatException(Format, 0, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit (not a safetensors file?)", path);
        if (length is { } l && (long)n > l - 8)
            throw new InvalidFileFormatException(Format, 0, $"header length {n} is larger than the {l - 8} bytes that follow", path);
        var json = ReadHeaderBytes(stream, (int)n, path);
        return Parse(json, path, length, shard);
    }

    /// <summary>Reads the header of a file on disk.</summary>
    public static SafetensorsFile ReadFile(string path, int shard = 0)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VramFitException($"{path}: {e.Message}", e);
        }

        using (stream)
            return Read(stream, path, stream.Length, shard);
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n <= 0)
                break;
            total += n;
        }

        return total;
    }

    /// <summary>Gathers the header in chunks, so a lying length on an endless-looking stream allocates only what arrives.</summary>
    private static ReadOnlyMemory<byte> ReadHeaderBytes(Stream stream, int n, string? path)
    {
        using var gathered = new MemoryStream(Math.Min(n, 1 << 16));
        var chunk = new byte[Math.Min(n, 1 << 16)];
        int left = n;
        while (left > 0)
        {
            int got = stream.Read(chunk, 0, Math.Min(left, chunk.Length));
            if (got <= 0)
                throw new InvalidFileFormatException(Format, 8 + n - left, $"file ends inside the {n}-byte JSON header", path);
            gathered.Write(chunk, 0, got);
            left -= got;
        }

        return gathered.GetBuffer().AsMemory(0, n);
    }

    /// <summary>Parses the JSON header (without the 8-byte prefix).</summary>
    public static SafetensorsFile Parse(ReadOnlyMemory<byte> json, string? path = null, long? fileLength = null, int shard = 0)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
            throw new InvalidFileFormatException(Format, 8, "header is not valid UTF-8", path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidFileFormatException(Format, 8 + (e.BytePositionInLine ?? 0), $"header is not valid JSON ({e.Message.Split('.')[0]})", path);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Error(path, $"header is a JSON {root.ValueKind}, expected an object");
            var tensors = ImmutableArray.CreateBuilder<SafetensorsTensorInfo>();
            var metadata = ImmutableDictionary<string, string>.Empty;
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                    metadata = ReadMetadata(p.Value, path);
                else
                    tensors.Add(ReadTensor(p.Name, p.Value, path, shard));
            }

            var result = tensors.ToImmutable();
            CheckLayout(result, json.Length, fileLength, path);
            return new SafetensorsFile(path, json.Length, result, metadata);
        }
    }

    private static ImmutableDictionary<string, string> ReadMetadata(JsonElement e, string? path)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Error(path, "__metadata__ is not an object");
        var b = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
            b[p.Name] = p.Value.ValueKind == JsonValueKind.String
                ? p.Value.GetString()!
                : throw Error(path, $"__metadata__.{p.Name} is not a string");
        return b.ToImmutable();
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement e, string? path, int shard)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Error(path, $"tensor '{name}' is not an object");
        if (!e.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Error(path, $"tensor '{name}' has no dtype");
        string dtype = dtypeElement.GetString()!;
        if (!SafetensorsDtypes.TryGetBits(dtype, out _))
            throw Error(path, $"tensor '{name}' has unknown dtype '{dtype}'");
        if (!e.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error(path, $"tensor '{name}' has no shape");
        var shape = ImmutableArray.CreateBuilder<long>();
        long elements = 1;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw Error(path, $"tensor '{name}' has a shape entry that is not a non-negative integer");
            if (dim > 0 && elements > long.MaxValue / dim)
                throw Error(path, $"tensor '{name}': element count overflows");
            elements *= dim;
            shape.Add(dim);
        }

        if (!e.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !TryGetOffset(offsets[0], out long begin) || !TryGetOffset(offsets[1], out long end) || end < begin)
            throw Error(path, $"tensor '{name}' has invalid data_offsets (expected [begin, end] with 0 ≤ begin ≤ end)");
        long? expected = SafetensorsDtypes.Bytes(dtype, elements);
        if (expected != end - begin)
            throw Error(path, $"tensor '{name}': {end - begin} data bytes for {elements} {dtype} elements (expected {(expected?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "a whole number of bytes")})");
        return new SafetensorsTensorInfo(name, dtype, shape.ToImmutable(), begin, end, shard);
    }

    private static bool TryGetOffset(JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value) && value >= 0;
    }

    private static void CheckLayout(ImmutableArray<SafetensorsTensorInfo> tensors, long headerLength, long? fileLength, string? path)
    {
        var sorted = tensors.ToArray();
        Array.Sort(sorted, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long previousEnd = 0;
        string? previous = null;
        foreach (var t in sorted)
        {
            if (t.Begin < previousEnd)
                throw Error(path, $"tensor '{t.Name}' data [{t.Begin}, {t.End}) overlaps tensor '{previous}'");
            if (t.Begin > previousEnd)
                throw Error(path, $"tensor '{t.Name}' data starts at {t.Begin}, leaving a gap after byte {previousEnd}");
            previousEnd = t.End;
            previous = t.Name;
        }

        if (fileLength is { } length && 8 + headerLength + previousEnd != length)
            throw new InvalidFileFormatException(Format, 8 + headerLength, 8 + headerLength + previousEnd > length
                ? $"tensor data ends at byte {8 + headerLength + previousEnd}, past the end of the {length}-byte file"
                : $"tensor data ends at byte {8 + headerLength + previousEnd} but the file has {length} bytes", path);
    }

    private static InvalidFileFormatException Error(string? path, string problem) => new(Format, 8, problem, path);
}
