using System.Buffers.Binary;
using System.Text;
using VramFit.Errors;
using VramFit.Sources.Safetensors;
using static VramFit.Tests.Sources.Safetensors.SafetensorsFixtures;

namespace VramFit.Tests.Sources.Safetensors;

public class SafetensorsReaderTests
{
    private static SafetensorsFile Read(byte[] bytes) => SafetensorsReader.Read(new MemoryStream(bytes), "x.safetensors");

    [Theory]
    [InlineData("BOOL", 8)]
    [InlineData("U8", 8)]
    [InlineData("I8", 8)]
    [InlineData("F8_E4M3", 8)]
    [InlineData("F8_E5M2", 8)]
    [InlineData("F8_E8M0", 8)]
    [InlineData("E8M0", 8)]
    [InlineData("F4", 4)]
    [InlineData("F6_E2M3", 6)]
    [InlineData("I16", 16)]
    [InlineData("U16", 16)]
    [InlineData("F16", 16)]
    [InlineData("BF16", 16)]
    [InlineData("I32", 32)]
    [InlineData("U32", 32)]
    [InlineData("F32", 32)]
    [InlineData("F64", 64)]
    [InlineData("I64", 64)]
    [InlineData("U64", 64)]
    [InlineData("C64", 64)]
    public void Every_dtype_has_exact_bytes(string dtype, int bits)
    {
        var file = Read(Bytes([new T("a", dtype, 16, 4), new T("b", "F32", 3)], new Dictionary<string, string> { ["format"] = "pt" }));
        Assert.Equal(16 * 4 * bits / 8, file.Tensors[0].Bytes);
        Assert.Equal(64, file.Tensors[0].Elements);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(12, file.Tensors[1].Bytes);
        Assert.Equal(0, file.DataOffset % 8);
    }

    [Fact]
    public void Scalar_and_empty_tensors()
    {
        var file = Read(Bytes([new T("scalar", "F32"), new T("empty", "F16", 0, 5)]));
        Assert.Equal(4, file.Tensors[0].Bytes);
        Assert.Equal(0, file.Tensors[1].Bytes);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,1]}}", "unknown dtype 'Q9'")]
    [InlineData("{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,4]}}", "4 data bytes for 3 F16 elements")]
    [InlineData("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", "whole number of bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F16\",\"shape\":[-1],\"data_offsets\":[0,2]}}", "non-negative")]
    [InlineData("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[2,0]}}", "invalid data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", "overlaps")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", "gap")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,1]}}", "overflows")]
    [InlineData("[1,2]", "expected an object")]
    [InlineData("{\"a\":", "not valid JSON")]
    [InlineData("{\"__metadata__\":{\"x\":1}}", "not a string")]
    public void Malformed_headers(string json, string expected)
    {
        var bytes = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        Encoding.UTF8.GetBytes(json).CopyTo(bytes, 8);
        var e = Assert.Throws<InvalidFileFormatException>(() => Read(bytes));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Data_past_the_end_and_huge_header_lengths()
    {
        var header = Header([new T("a", "F32", 1024)], null, out _);
        Assert.Contains("past the end", Assert.Throws<InvalidFileFormatException>(() => Read(header)).Message);

        var huge = Bytes([new T("a", "F32", 1)]);
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 1UL << 62);
        Assert.Contains("exceeds", Assert.Throws<InvalidFileFormatException>(() => Read(huge)).Message);

        // Just under the limit, on a stream of unknown length: fails at the end of the data, allocating little.
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 90_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("file ends", Assert.Throws<InvalidFileFormatException>(() =>
            SafetensorsReader.Read(new Gguf.GgufFixtures.ForwardOnlyStream(huge, 4096))).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
    }

    [Fact]
    public void Truncation_at_every_offset_and_random_mutations_raise_only_library_errors()
    {
        var bytes = Bytes(Llama(1, 64, 128, 4, 2, 32));
        int headerEnd = (int)Read(bytes).DataOffset;
        for (int cut = 0; cut < headerEnd + 16; cut++)
            Assert.Throws<InvalidFileFormatException>(() => Read(bytes.AsSpan(0, cut).ToArray()));

        var random = new Random(7);
        int accepted = 0;
        for (int i = 0; i < FuzzIterations.Count; i++)
        {
            var mutated = (byte[])bytes.Clone();
            for (int m = 1 + random.Next(3); m > 0; m--)
                mutated[random.Next(headerEnd)] = (byte)random.Next(256);
            try
            {
                _ = SafetensorsCheckpoint.FromShards([Read(mutated)]).Checkpoint.TotalBytes;
                accepted++;
            }
            catch (VramFitException)
            {
            }
        }

        Assert.InRange(accepted, 1, FuzzIterations.Count - 1);
    }
}
