using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using VramFit.Numerics;

namespace VramFit.Sources.Gguf;

/// <summary>An array value for <see cref="GgufWriter"/>; items are boxed scalars, strings or nested arrays.</summary>
public sealed record GgufWriterArray(GgufValueType ElementType, IReadOnlyList<object> Items);

/// <summary>
/// Writes GGUF files (v2 or v3): header, metadata, tensor infos, padding, and optionally the data section
/// as zeros. Used to build test fixtures and the llama.cpp differential harness inputs: a file written with
/// <see cref="WriteFile"/> is sparse, so a "70B model" costs a few kB of disk while loading like the real thing.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValueType Type, object Value)> metadata = [];
    private readonly List<(string Name, int TypeId, long[] Dims, long? Offset)> tensors = [];

    /// <param name="version">GGUF version to write (2 or 3; 1 only to test rejection).</param>
    /// <param name="alignment">Data alignment; a value other than 32 also writes <c>general.alignment</c>.</param>
    public GgufWriter(int version = 3, int alignment = 32)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "must be a power of two");
        Version = version;
        Alignment = alignment;
    }

    public int Version { get; }

    public int Alignment { get; }

    /// <summary>Adds a key with an explicit value type (value is converted: any integer, float, bool, string, <see cref="GgufWriterArray"/>).</summary>
    public GgufWriter Add(string key, GgufValueType type, object value)
    {
        metadata.Add((key, type, value));
        return this;
    }

    public GgufWriter Add(string key, string value) => Add(key, GgufValueType.String, value);

    public GgufWriter Add(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    public GgufWriter Add(string key, int value) => Add(key, GgufValueType.Int32, value);

    public GgufWriter Add(string key, ulong value) => Add(key, GgufValueType.UInt64, value);

    public GgufWriter Add(string key, float value) => Add(key, GgufValueType.Float32, value);

    public GgufWriter Add(string key, bool value) => Add(key, GgufValueType.Bool, value);

    public GgufWriter AddArray(string key, GgufValueType elementType, IEnumerable<object> items) =>
        Add(key, GgufValueType.Array, new GgufWriterArray(elementType, items.ToList()));

    /// <summary>Adds a tensor placed after the previous one (aligned). Dimensions are ggml order (ne0 first).</summary>
    public GgufWriter AddTensor(string name, GgmlType type, params long[] dims) => AddTensor(name, (int)type, dims, null);

    /// <summary>Adds a tensor with a raw type id and optionally an explicit data offset (for malformed fixtures).</summary>
    public GgufWriter AddTensor(string name, int typeId, long[] dims, long? offset)
    {
        tensors.Add((name, typeId, dims, offset));
        return this;
    }

    /// <summary>Bytes of a tensor as the reader will compute them (0 for unknown type ids).</summary>
    private static long TensorBytes(int typeId, long[] dims)
    {
        if (!GgmlTypes.TryGet(typeId, out var traits) || dims.Length == 0)
            return 0;
        long rows = 1;
        for (int i = 1; i < dims.Length; i++)
            rows *= dims[i];
        return traits.RowBytes(dims[0]) * rows;
    }

    private long Pad(long n) => (n + Alignment - 1) / Alignment * Alignment;

    /// <summary>Size of the data section: every tensor padded to the alignment.</summary>
    public long DataLength
    {
        get
        {
            long end = 0, next = 0;
            foreach (var t in tensors)
            {
                long offset = t.Offset ?? next;
                long bytes = TensorBytes(t.TypeId, t.Dims);
                next = Pad(offset + bytes);
                end = Math.Max(end, next);
            }

            return end;
        }
    }

    /// <summary>The header, padded to the alignment (so the data section starts right after it).</summary>
    public byte[] HeaderBytes()
    {
        using var ms = new MemoryStream();
        WriteHeader(ms);
        return ms.ToArray();
    }

    /// <summary>Writes header and, if <paramref name="includeData"/>, the zero data section.</summary>
    public void WriteTo(Stream stream, bool includeData = true)
    {
        WriteHeader(stream);
        if (!includeData)
            return;
        var zeros = new byte[64 * 1024];
        for (long left = DataLength; left > 0; left -= zeros.Length)
            stream.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
    }

    /// <summary>Writes a complete file whose data section is a sparse run of zeros (<see cref="FileStream.SetLength"/>).</summary>
    public void WriteFile(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        WriteHeader(file);
        file.SetLength(file.Length + DataLength);
    }

    /// <summary>The whole file in memory (header and zero data).</summary>
    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    private void WriteHeader(Stream s)
    {
        var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write((uint)Version);
        var entries = metadata.ToList();
        if (Alignment != 32 && !entries.Exists(e => e.Key == "general.alignment"))
            entries.Add(("general.alignment", GgufValueType.UInt32, (uint)Alignment));
        WriteCount(w, tensors.Count);
        WriteCount(w, entries.Count);
        foreach (var (key, type, value) in entries)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value);
        }

        long next = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims)
                w.Write((ulong)d);
            w.Write((uint)t.TypeId);
            long offset = t.Offset ?? next;
            w.Write((ulong)offset);
            next = Pad(offset + TensorBytes(t.TypeId, t.Dims));
        }

        w.Flush();
        long padding = Pad(s.Position) - s.Position;
        for (long i = 0; i < padding; i++)
            s.WriteByte(0);
    }

    // Version 1 wrote 32-bit counts and lengths; later versions 64-bit (ggml/docs/gguf.md).
    private void WriteCount(BinaryWriter w, long n)
    {
        if (Version == 1)
            w.Write((uint)n);
        else
            w.Write((ulong)n);
    }

    private void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        WriteCount(w, bytes.Length);
        w.Write(bytes);
    }

    private void WriteValue(BinaryWriter w, GgufValueType type, object v)
    {
        var c = CultureInfo.InvariantCulture;
        switch (type)
        {
            case GgufValueType.UInt8: w.Write(Convert.ToByte(v, c)); break;
            case GgufValueType.Int8: w.Write(Convert.ToSByte(v, c)); break;
            case GgufValueType.UInt16: w.Write(Convert.ToUInt16(v, c)); break;
            case GgufValueType.Int16: w.Write(Convert.ToInt16(v, c)); break;
            case GgufValueType.UInt32: w.Write(Convert.ToUInt32(v, c)); break;
            case GgufValueType.Int32: w.Write(Convert.ToInt32(v, c)); break;
            case GgufValueType.UInt64: w.Write(Convert.ToUInt64(v, c)); break;
            case GgufValueType.Int64: w.Write(Convert.ToInt64(v, c)); break;
            case GgufValueType.Float32: w.Write(Convert.ToSingle(v, c)); break;
            case GgufValueType.Float64: w.Write(Convert.ToDouble(v, c)); break;
            case GgufValueType.Bool: w.Write(Convert.ToBoolean(v, c) ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)v); break;
            case GgufValueType.Array:
                var array = (GgufWriterArray)v;
                w.Write((uint)array.ElementType);
                WriteCount(w, array.Items.Count);
                foreach (var item in array.Items)
                    WriteValue(w, array.ElementType, item);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not a GGUF value type");
        }
    }

    /// <summary>Little-endian helper for tests that patch a written header in place.</summary>
    public static void PatchUInt64(byte[] file, int offset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(offset), value);
}
