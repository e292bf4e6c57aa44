using System.Buffers.Binary;
using VramFit.Errors;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufFixtures;

namespace VramFit.Tests.Sources.Gguf;

/// <summary>Malformed input must give <see cref="InvalidFileFormatException"/> quickly and without large allocations.</summary>
public class GgufHostileInputTests
{
    private const long FewMegabytes = 8L << 20;

    private static long AllocatedWhile(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void AssertRejectedCheaply(byte[] bytes, string expected, bool forwardOnly = false)
    {
        InvalidFileFormatException? error = null;
        long allocated = AllocatedWhile(() => error = Assert.Throws<InvalidFileFormatException>(() =>
            forwardOnly ? GgufReader.Read(new ForwardOnlyStream(bytes, 1 << 16)) : Read(bytes)));
        Assert.Contains(expected, error!.Message);
        Assert.True(allocated < FewMegabytes, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_to_the_sixtieth_tensors(bool forwardOnly)
    {
        var bytes = Llama().ToArray();
        GgufWriter.PatchUInt64(bytes, 8, 1UL << 60);
        AssertRejectedCheaply(bytes, "tensor count", forwardOnly);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Four_gigabyte_string(bool forwardOnly)
    {
        var bytes = new GgufWriter().Add("general.name", "x").ToArray();
        // header(24) + key length(8) + "general.name"(12) + type(4) → value length at 48
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), 4UL << 30);
        AssertRejectedCheaply(bytes, "general.name", forwardOnly);
    }

    [Fact]
    public void String_just_under_the_limit_on_an_unknown_length_stream_allocates_only_what_arrives()
    {
        var bytes = new GgufWriter().Add("general.name", "x").ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), 60UL << 20);
        AssertRejectedCheaply(bytes, "file ends", forwardOnly: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Array_of_two_to_the_sixtieth_elements(bool forwardOnly)
    {
        var bytes = new GgufWriter().AddArray("a", GgufValueType.UInt32, [1u]).ToArray();
        // header(24) + key length(8) + "a"(1) + type(4) + element type(4) → count at 41
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(41), 1UL << 60);
        AssertRejectedCheaply(bytes, "exceeds the limit", forwardOnly);
    }

    [Fact]
    public void Deeply_nested_arrays()
    {
        object value = new GgufWriterArray(GgufValueType.Int32, [1]);
        for (int i = 0; i < 6; i++)
            value = new GgufWriterArray(GgufValueType.Array, [value]);
        var bytes = new GgufWriter().Add("deep", GgufValueType.Array, value).ToArray();
        AssertRejectedCheaply(bytes, "nested deeper");
    }

    [Fact]
    public void Truncation_at_every_offset_is_an_invalid_format_error()
    {
        var bytes = Llama(layers: 1, hidden: 256, vocab: 8).ToArray();
        var file = Read(bytes);
        int header = (int)file.DataOffset;
        // The writer pads the last tensor to the alignment; cutting that padding leaves a valid file.
        long dataEnd = file.DataOffset + file.Tensors.Max(t => t.Offset + t.Bytes);
        for (int cut = 0; cut < dataEnd; cut += cut < header + 64 || cut > dataEnd - 64 ? 1 : 997)
        {
            var truncated = bytes.AsSpan(0, cut).ToArray();
            Assert.Throws<InvalidFileFormatException>(() => Read(truncated));
            Assert.Throws<InvalidFileFormatException>(() => GgufReader.Read(new ForwardOnlyStream(truncated), "t", truncated.Length));
        }
    }

    [Fact]
    public void Truncated_header_on_a_stream_of_unknown_length()
    {
        var bytes = Llama(layers: 1, vocab: 8).HeaderBytes();
        for (int cut = 0; cut < bytes.Length - 32; cut++)
            Assert.Throws<InvalidFileFormatException>(() => GgufReader.Read(new ForwardOnlyStream(bytes.AsSpan(0, cut).ToArray())));
    }

    /// <summary>Randomized mutation fuzzing: flipped bytes, overwritten words, splices. Only library errors may escape.</summary>
    [Fact]
    public void Random_mutations_raise_only_library_errors()
    {
        var seeds = new[]
        {
            Llama(layers: 2, hidden: 256, vocab: 16).ToArray(),
            Llama(layers: 1, hidden: 256, vocab: 4, version: 2).ToArray(),
        };
        var random = new Random(20261125);
        int runs = 0, accepted = 0;
        for (int i = 0; i < FuzzIterations.Count; i++)
        {
            var bytes = (byte[])seeds[i % seeds.Length].Clone();
            int header = Math.Min(bytes.Length, 2000);
            int mutations = 1 + random.Next(4);
            for (int m = 0; m < mutations; m++)
            {
                int at = random.Next(header);
                switch (random.Next(3))
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes[at] = (byte)random.Next(256); break;
                    default:
                        if (at + 8 <= bytes.Length)
                            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), random.Next(2) == 0 ? (ulong)random.NextInt64() : (ulong)random.Next(64));
                        break;
                }
            }

            runs++;
            try
            {
                var file = Read(bytes);
                _ = file.Checkpoint.TotalBytes;
                _ = file.FileTypeName;
                accepted++;
            }
            catch (VramFitException)
            {
            }
        }

        Assert.Equal(FuzzIterations.Count, runs);
        Assert.InRange(accepted, 1, runs - 1);
    }
}
