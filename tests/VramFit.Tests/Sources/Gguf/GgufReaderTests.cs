using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufFixtures;

namespace VramFit.Tests.Sources.Gguf;

public class GgufReaderTests
{
    [Fact]
    public void Reads_header_metadata_and_exact_tensor_bytes()
    {
        var writer = Llama(layers: 3, hidden: 512, vocab: 100);
        var file = Read(writer.ToArray());

        Assert.Equal(3, file.Version);
        Assert.Equal("llama", file.Metadata.Architecture);
        Assert.Equal(3, file.Metadata.GetLong("llama.block_count"));
        Assert.Equal(10000.0, file.Metadata.GetDouble("llama.rope.freq_base"));
        Assert.Equal(100, file.VocabSize);
        Assert.Equal(100, file.Metadata.GetLong("tokenizer.vocab_size"));
        Assert.False(file.Metadata.Has("tokenizer.ggml.tokens"));
        Assert.Equal(new GgufSkippedArray("string", 100), file.SkippedArrays["tokenizer.ggml.tokens"]);
        Assert.Equal("Q4_K_M", file.FileTypeName);
        Assert.Equal(2 + 3 * 9 + 1, file.Tensors.Length);

        // Q4_K: 512 / 256 blocks × 144 bytes per row.
        var q = file.Tensors.Single(t => t.Name == "blk.1.attn_q.weight");
        Assert.Equal(512 / 256 * 144 * 512L, q.Bytes);
        Assert.Equal(1, q.Layer);
        Assert.Equal(writer.DataLength, file.Tensors.Max(t => t.Offset + t.Bytes + 31) / 32 * 32);
        Assert.Equal(file.Tensors.Sum(t => t.Bytes), file.Checkpoint.TotalBytes);
        Assert.Equal(CheckpointFormat.Gguf, file.Checkpoint.Format);
        Assert.Equal(file.Tensors.Sum(t => t.Elements), file.Checkpoint.LogicalParameters);
        Assert.Equal(writer.HeaderBytes().Length, file.DataOffset);
        var byLayer = file.Checkpoint.BytesByLayer(3);
        Assert.All(byLayer, b => Assert.Equal(byLayer[0], b));
    }

    [Fact]
    public void Every_ggml_type_has_exact_row_bytes()
    {
        var w = new GgufWriter();
        foreach (var t in GgmlTypes.All)
            w.AddTensor("t." + t.Name, t.Type, 512, 3);
        var file = Read(w.ToArray());
        foreach (var t in GgmlTypes.All)
            Assert.Equal(512 / t.BlockSize * t.TypeSize * 3L, file.Tensors.Single(x => x.Name == "t." + t.Name).Bytes);
    }

    [Fact]
    public void Every_value_type_and_nested_arrays_round_trip()
    {
        var w = new GgufWriter(version: 2)
            .Add("u8", GgufValueType.UInt8, 250)
            .Add("i8", GgufValueType.Int8, -5)
            .Add("u16", GgufValueType.UInt16, 65000)
            .Add("i16", GgufValueType.Int16, -300)
            .Add("u32", GgufValueType.UInt32, 4_000_000_000u)
            .Add("i32", GgufValueType.Int32, -7)
            .Add("u64", GgufValueType.UInt64, ulong.MaxValue)
            .Add("i64", GgufValueType.Int64, long.MinValue)
            .Add("f32", GgufValueType.Float32, 0.5f)
            .Add("f64", GgufValueType.Float64, 1e-300)
            .Add("b", true)
            .Add("s", "héllo")
            .Add("empty", "")
            .AddArray("per_layer", GgufValueType.UInt32, [8u, 8u, 1u])
            .AddArray("nested", GgufValueType.Array, [
                new GgufWriterArray(GgufValueType.Int32, [1, 2]),
                new GgufWriterArray(GgufValueType.String, ["a"]),
            ]);
        var m = Read(w.ToArray()).Metadata;
        Assert.Equal(250L, m.Get("u8"));
        Assert.Equal(-5L, m.Get("i8"));
        Assert.Equal(65000L, m.Get("u16"));
        Assert.Equal(-300L, m.Get("i16"));
        Assert.Equal(4_000_000_000L, m.Get("u32"));
        Assert.Equal(-7L, m.Get("i32"));
        Assert.Equal(ulong.MaxValue, m.Get("u64"));
        Assert.Equal(long.MinValue, m.Get("i64"));
        Assert.Equal(0.5, m.Get("f32"));
        Assert.Equal(1e-300, m.Get("f64"));
        Assert.Equal(true, m.Get("b"));
        Assert.Equal("héllo", m.Get("s"));
        Assert.Equal("", m.Get("empty"));
        Assert.Equal([8L, 8L, 1L], m.GetPerLayer("per_layer", 3)!);
        var nested = m.GetArray("nested")!;
        Assert.Equal("array", nested.ElementType);
        Assert.Equal(2, nested.Count);
        Assert.Equal(2L, ((GgufArray)nested.Items[0]).GetLong(1));
        Assert.Equal("a", ((GgufArray)nested.Items[1]).Items[0]);
    }

    [Fact]
    public void Keeps_tokenizer_arrays_on_request()
    {
        var file = Read(Llama(vocab: 10).ToArray(), new GgufReadOptions { KeepTokenizerArrays = true });
        Assert.Equal("tok9", file.Metadata.GetArray("tokenizer.ggml.tokens")!.Items[9]);
        Assert.Equal(10, file.VocabSize);
        Assert.Empty(file.SkippedArrays);
    }

    [Fact]
    public void Forward_only_stream_gives_the_same_result_as_a_file()
    {
        var bytes = Llama(vocab: 5000).ToArray();
        var a = Read(bytes);
        var b = GgufReader.Read(new ForwardOnlyStream(bytes, chunk: 1000), "stream");
        Assert.Equal(a.Tensors.Select(t => (t.Name, t.Bytes, t.Offset)), b.Tensors.Select(t => (t.Name, t.Bytes, t.Offset)));
        Assert.Equal(a.VocabSize, b.VocabSize);
        Assert.Equal(a.DataOffset, b.DataOffset);
    }

    [Fact]
    public void Honours_general_alignment()
    {
        var w = new GgufWriter(alignment: 64).Add("general.architecture", "llama");
        w.AddTensor("a", GgmlType.F32, 3);
        w.AddTensor("b", GgmlType.F32, 3);
        var file = Read(w.ToArray());
        Assert.Equal(64, file.Alignment);
        Assert.Equal(0, file.DataOffset % 64);
        Assert.Equal(64, file.Tensors[1].Offset);
    }

    [Fact]
    public void Version_1_is_rejected_with_a_clear_message()
    {
        var e = Assert.Throws<InvalidFileFormatException>(() => Read(new GgufWriter(version: 1).Add("a", 1u).ToArray()));
        Assert.Contains("version 1", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x47, 0x47, 0x4A, 0x54, 3, 0, 0, 0 }, "not a GGUF file")]
    [InlineData(new byte[] { 0x47, 0x47, 0x55, 0x46, 0, 0, 0, 3 }, "big-endian")]
    [InlineData(new byte[] { 0x47, 0x47, 0x55, 0x46, 9, 0, 0, 0 }, "unsupported GGUF version 9")]
    [InlineData(new byte[] { 0x47, 0x47 }, "too short")]
    public void Wrong_magic_or_version(byte[] bytes, string expected)
    {
        var e = Assert.Throws<InvalidFileFormatException>(() => Read(bytes));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Unknown_tensor_type_names_the_id()
    {
        var w = new GgufWriter().AddTensor("blk.0.x", 77, [32], null);
        var e = Assert.Throws<InvalidFileFormatException>(() => Read(w.ToArray()));
        Assert.Contains("unknown ggml type id 77", e.Message);
        Assert.Contains("blk.0.x", e.Message);
    }

    [Fact]
    public void Misaligned_overlapping_and_out_of_file_tensors_are_rejected()
    {
        var misaligned = new GgufWriter().AddTensor("a", (int)GgmlType.F32, [8], 4);
        Assert.Contains("not a multiple of the alignment", Assert.Throws<InvalidFileFormatException>(() => Read(misaligned.ToArray())).Message);

        var overlapping = new GgufWriter().AddTensor("a", (int)GgmlType.F32, [64], 0).AddTensor("b", (int)GgmlType.F32, [8], 32);
        Assert.Contains("overlaps tensor 'a'", Assert.Throws<InvalidFileFormatException>(() => Read(overlapping.ToArray())).Message);

        var gap = new GgufWriter().AddTensor("a", (int)GgmlType.F32, [8], 0).AddTensor("b", (int)GgmlType.F32, [8], 64);
        Assert.Contains("data offset 64, expected 32", Assert.Throws<InvalidFileFormatException>(() => Read(gap.ToArray())).Message);

        var reordered = new GgufWriter().AddTensor("a", (int)GgmlType.F32, [8], 32).AddTensor("b", (int)GgmlType.F32, [8], 0);
        Assert.Throws<InvalidFileFormatException>(() => Read(reordered.ToArray()));

        var header = new GgufWriter().AddTensor("a", GgmlType.F32, 64);
        Assert.Contains("past the end", Assert.Throws<InvalidFileFormatException>(() => Read(header.HeaderBytes())).Message);
    }

    [Fact]
    public void Row_not_multiple_of_block_size_is_rejected()
    {
        var w = new GgufWriter().AddTensor("a", (int)GgmlType.Q4_K, [100, 2], 0);
        Assert.Contains("block size 256", Assert.Throws<InvalidFileFormatException>(() => Read(w.HeaderBytes())).Message);
    }

    [Fact]
    public void Duplicate_keys_and_tensor_names_are_rejected()
    {
        Assert.Contains("duplicate metadata key 'k'", Assert.Throws<InvalidFileFormatException>(() => Read(new GgufWriter().Add("k", 1u).Add("k", 2u).ToArray())).Message);
        var w = new GgufWriter().AddTensor("t", GgmlType.F32, 8).AddTensor("t", GgmlType.F32, 8);
        Assert.Contains("duplicate tensor name 't'", Assert.Throws<InvalidFileFormatException>(() => Read(w.ToArray())).Message);
    }

    [Fact]
    public void Bad_alignment_is_rejected()
    {
        var w = new GgufWriter().Add("general.alignment", 24u);
        Assert.Contains("power of two", Assert.Throws<InvalidFileFormatException>(() => Read(w.ToArray())).Message);
    }
}
