using System.Buffers.Binary;
using System.Text;
using VramFit.Errors;

namespace VramFit.Sources.Gguf;

/// <summary>
/// Forward-only little-endian reader over a <see cref="Stream"/> with its own buffer, so that a GGUF header
/// can be parsed from a file, a pipe or a remote range stream without seeking. Every read that would run past
/// the end of the stream raises <see cref="InvalidFileFormatException"/> with the offset, never EndOfStream.
/// </summary>
internal sealed class GgufByteReader
{
    private const string Format = "GGUF";
    private readonly Stream stream;
    private readonly byte[] buffer;
    private readonly string? path;
    private int start;
    private int end;
    private long consumed;          // bytes of the stream before buffer[start]
    private bool endOfStream;

    public GgufByteReader(Stream stream, string? path, long? length, int bufferSize = 1 << 16)
    {
        this.stream = stream;
        this.path = path;
        Length = length;
        buffer = new byte[bufferSize];
    }

    /// <summary>Offset of the next byte to read.</summary>
    public long Position => consumed;

    /// <summary>Total length when the source knows it (files, ranged HTTP), otherwise null.</summary>
    public long? Length { get; }

    /// <summary>Bytes left before the end, when the length is known.</summary>
    public long? Remaining => Length is { } l ? l - consumed : null;

    public InvalidFileFormatException Error(string problem, long? offset = null) =>
        new(Format, offset ?? consumed, problem, path);

    private void Ensure(int count, string what)
    {
        if (end - start >= count)
            return;
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }

        while (end - start < count && !endOfStream)
        {
            int n = stream.Read(buffer, end, buffer.Length - end);
            if (n <= 0)
                endOfStream = true;
            else
                end += n;
        }

        if (end - start < count)
            throw Error($"file ends inside {what} (needs {count} bytes, {end - start} left)");
    }

    public ReadOnlySpan<byte> Take(int count, string what)
    {
        Ensure(count, what);
        var span = new ReadOnlySpan<byte>(buffer, start, count);
        start += count;
        consumed += count;
        return span;
    }

    public byte ReadByte(string what) => Take(1, what)[0];

    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public float ReadSingle(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

    public double ReadDouble(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>Skips <paramref name="count"/> bytes, reading through the buffer (the stream may not seek).</summary>
    public void Skip(long count, string what)
    {
        CheckRemaining(count, what);
        while (count > 0)
        {
            if (start == end)
                Ensure(1, what);
            int step = (int)Math.Min(count, end - start);
            start += step;
            consumed += step;
            count -= step;
        }
    }

    /// <summary>
    /// Skips <paramref name="count"/> length-prefixed strings (a vocabulary) straight from the buffer: the hot
    /// loop of header parsing, one iteration per token.
    /// </summary>
    public void SkipStrings(long count, long maxBytes, string what)
    {
        for (long i = 0; i < count; i++)
        {
            if (end - start < 8)
                Ensure(8, what);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(buffer, start, 8));
            if (length > (ulong)maxBytes)
                throw Error($"element {i} of '{what}': string of {length} bytes exceeds the {maxBytes}-byte limit");
            start += 8;
            consumed += 8;
            if ((ulong)(end - start) >= length)
            {
                start += (int)length;
                consumed += (long)length;
            }
            else
            {
                Skip((long)length, what);
            }
        }
    }

    /// <summary>Throws when a declared size is larger than what the source has left (when its length is known).</summary>
    public void CheckRemaining(long bytes, string what)
    {
        if (bytes < 0)
            throw Error($"{what}: negative size {bytes}");
        if (Remaining is { } left && bytes > left)
            throw Error($"{what}: declares {bytes} bytes but only {left} remain");
    }

    /// <summary>
    /// Reads a UTF-8 string of <paramref name="length"/> bytes. Long strings are gathered chunk by chunk, so
    /// a lying length on a source of unknown size allocates only as much as the source really delivers.
    /// </summary>
    public string ReadString(ulong length, long maxBytes, string what)
    {
        if (length > (ulong)maxBytes)
            throw Error($"{what}: string of {length} bytes exceeds the {maxBytes}-byte limit");
        CheckRemaining((long)length, what);
        int n = (int)length;
        if (n <= buffer.Length)
            return Decode(Take(n, what), what);
        using var gathered = new MemoryStream();
        int left = n;
        while (left > 0)
        {
            int step = Math.Min(left, buffer.Length);
            gathered.Write(Take(step, what));
            left -= step;
        }

        return Decode(gathered.GetBuffer().AsSpan(0, n), what);
    }

    // Lenient on purpose: some converters wrote token pieces that are not valid UTF-8, and llama.cpp loads them.
    private static string Decode(ReadOnlySpan<byte> bytes, string what) => bytes.Length == 0 ? "" : Encoding.UTF8.GetString(bytes);
}
