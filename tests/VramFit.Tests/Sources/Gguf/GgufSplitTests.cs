using VramFit.Errors;
using VramFit.Numerics;
using VramFit.Sources.Gguf;

namespace VramFit.Tests.Sources.Gguf;

public sealed class GgufSplitTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vramfit-split-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string WriteParts(int count, int tensorsPerPart = 2)
    {
        for (int p = 0; p < count; p++)
        {
            var w = new GgufWriter()
                .Add("split.no", GgufValueType.UInt16, p)
                .Add("split.count", GgufValueType.UInt16, count)
                .Add("split.tensors.count", GgufValueType.Int32, count * tensorsPerPart);
            if (p == 0)
                w.Add("general.architecture", "llama").Add("llama.block_count", (uint)count);
            for (int t = 0; t < tensorsPerPart; t++)
                w.AddTensor($"blk.{p}.t{t}.weight", GgmlType.Q8_0, 64, 10);
            w.WriteFile(Path.Combine(dir, GgufSplits.PartName("model-00001-of-00001.gguf", p, count)));
        }

        return Path.Combine(dir, GgufSplits.PartName("model-00001-of-00001.gguf", 0, count));
    }

    [Fact]
    public void Reads_every_part_and_merges_tensors()
    {
        var first = WriteParts(3);
        Assert.EndsWith("model-00001-of-00003.gguf", first);
        var file = GgufReader.ReadFile(first);
        Assert.Equal(3, file.Parts.Length);
        Assert.Equal(6, file.Tensors.Length);
        Assert.Equal([0, 0, 1, 1, 2, 2], file.Tensors.Select(t => t.Part));
        Assert.Equal("llama", file.Metadata.Architecture);
        Assert.Equal(6 * 10 * (64 / 32 * 34L), file.Checkpoint.TotalBytes);
        Assert.Equal([2 * 680L, 2 * 680L, 2 * 680L], file.Checkpoint.BytesByLayer(3));
        Assert.Equal(Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length), file.FileBytes);
    }

    [Fact]
    public void Reading_a_later_part_also_reads_the_whole_model()
    {
        WriteParts(2);
        var file = GgufReader.ReadFile(Path.Combine(dir, "model-00002-of-00002.gguf"));
        Assert.Equal(4, file.Tensors.Length);
        Assert.Equal("llama", file.Metadata.Architecture);
    }

    [Fact]
    public void Missing_part_names_the_file()
    {
        var first = WriteParts(3);
        File.Delete(Path.Combine(dir, "model-00002-of-00003.gguf"));
        var e = Assert.Throws<VramFitException>(() => GgufReader.ReadFile(first));
        Assert.Contains("model-00002-of-00003.gguf", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Tensor_count_mismatch_is_reported()
    {
        var first = WriteParts(2);
        new GgufWriter().Add("split.no", GgufValueType.UInt16, 1).Add("split.count", GgufValueType.UInt16, 2)
            .AddTensor("blk.1.t0.weight", GgmlType.Q8_0, 64, 10)
            .WriteFile(Path.Combine(dir, "model-00002-of-00002.gguf"));
        Assert.Contains("split.tensors.count is 4", Assert.Throws<InvalidFileFormatException>(() => GgufReader.ReadFile(first)).Message);
    }

    [Theory]
    [InlineData("m-00002-of-00005.gguf", true, 1, 5)]
    [InlineData("m-00005-of-00005.GGUF", true, 4, 5)]
    [InlineData("m-00006-of-00005.gguf", false, 0, 0)]
    [InlineData("m.gguf", false, 0, 0)]
    public void Parses_part_names(string name, bool ok, int index, int count)
    {
        Assert.Equal(ok, GgufSplits.TryParseName(name, out var i, out var c));
        if (ok)
            Assert.Equal((index, count), (i, c));
    }

    [Fact]
    public void Sparse_file_is_small_on_disk_but_reads_full_size()
    {
        var path = Path.Combine(dir, "big.gguf");
        new GgufWriter().Add("general.architecture", "llama").AddTensor("token_embd.weight", GgmlType.F16, 8192, 128256).WriteFile(path);
        var file = GgufReader.ReadFile(path);
        Assert.Equal(8192L * 128256 * 2, file.Checkpoint.TotalBytes);
        Assert.Equal(file.DataOffset + file.Checkpoint.TotalBytes, new FileInfo(path).Length);
        Assert.Equal(new FileInfo(path).Length, file.FileBytes);
    }
}
