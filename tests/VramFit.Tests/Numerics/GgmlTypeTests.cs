using VramFit.Numerics;

namespace VramFit.Tests.Numerics;

public class GgmlTypeTests
{
    // (block, bytes) from ggml type_traits / gguf-py GGML_QUANT_SIZES
    [Theory]
    [InlineData(GgmlType.F32, 1, 4)]
    [InlineData(GgmlType.F16, 1, 2)]
    [InlineData(GgmlType.BF16, 1, 2)]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    [InlineData(GgmlType.IQ1_S, 256, 50)]
    [InlineData(GgmlType.IQ1_M, 256, 56)]
    [InlineData(GgmlType.IQ2_XXS, 256, 66)]
    [InlineData(GgmlType.IQ2_XS, 256, 74)]
    [InlineData(GgmlType.IQ2_S, 256, 82)]
    [InlineData(GgmlType.IQ3_XXS, 256, 98)]
    [InlineData(GgmlType.IQ3_S, 256, 110)]
    [InlineData(GgmlType.IQ4_NL, 32, 18)]
    [InlineData(GgmlType.IQ4_XS, 256, 136)]
    [InlineData(GgmlType.TQ1_0, 256, 54)]
    [InlineData(GgmlType.TQ2_0, 256, 66)]
    [InlineData(GgmlType.MXFP4, 32, 17)]
    public void Block_layouts_match_ggml(GgmlType type, int block, int bytes)
    {
        var t = GgmlTypes.Get(type);
        Assert.Equal(block, t.BlockSize);
        Assert.Equal(bytes, t.TypeSize);
    }

    [Fact]
    public void Retired_ids_are_unknown()
    {
        Assert.False(GgmlTypes.TryGet(4, out _));
        Assert.False(GgmlTypes.TryGet(31, out _));
        Assert.False(GgmlTypes.TryGet(1000, out _));
    }

    [Theory]
    [InlineData("q8_0", GgmlType.Q8_0)]
    [InlineData("Q4_K", GgmlType.Q4_K)]
    [InlineData("iq4_nl", GgmlType.IQ4_NL)]
    [InlineData("bf16", GgmlType.BF16)]
    public void Parses_llama_cpp_type_names(string name, GgmlType type)
    {
        Assert.True(GgmlTypes.TryParse(name, out var t));
        Assert.Equal(type, t.Type);
    }
}
