using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Tests.Numerics;

public class WeightFormatTests
{
    private static readonly WeightTensor Down = new("blk.0.ffn_down.weight", TensorRole.FfnDown, 0, Columns: 14336, Rows: 4096);

    [Fact]
    public void Gptq_int4_g128_matches_the_packed_checkpoint_layout()
    {
        // qweight int32 [14336·4/32, 4096] + qzeros int32 [112, 4096·4/32] + scales fp16 [112, 4096] + g_idx int32 [14336]
        long expected = 1792L * 4096 * 4 + 112L * 512 * 4 + 112L * 4096 * 2 + 14336L * 4;
        Assert.Equal(expected, WeightFormat.Parse("gptq-int4").Bytes(Down));
    }

    [Fact]
    public void Awq_has_no_group_index()
    {
        long expected = 14336L * 512 * 4 + 112L * 512 * 4 + 112L * 4096 * 2;
        Assert.Equal(expected, WeightFormat.Parse("awq").Bytes(Down));
    }

    [Fact]
    public void Embeddings_and_norms_stay_dense()
    {
        var embd = new WeightTensor("token_embd.weight", TensorRole.TokenEmbedding, -1, 4096, 128256);
        var norm = new WeightTensor("blk.0.attn_norm.weight", TensorRole.Norm, 0, 4096);
        var nf4 = WeightFormat.Parse("nf4", ScalarType.BF16);
        Assert.Equal(4096L * 128256 * 2, nf4.Bytes(embd));
        Assert.Equal(4096L * 2, nf4.Bytes(norm));
    }

    [Theory]
    [InlineData("mxfp4", 4.25)]
    [InlineData("q8_0", 8.5)]
    [InlineData("q4_k", 4.5)]
    [InlineData("bf16", 16)]
    [InlineData("nvfp4", 4.5)]
    public void Bits_per_weight_of_block_formats(string name, double bits) =>
        Assert.Equal(bits, WeightFormat.Parse(name).BitsPerWeight(), 2);

    [Fact]
    public void Nf4_is_about_4_5_bits_and_double_quant_about_4_13() 
    {
        Assert.InRange(WeightFormat.Parse("nf4").BitsPerWeight(), 4.49, 4.51);
        Assert.InRange(WeightFormat.Parse("nf4-dq").BitsPerWeight(), 4.12, 4.14);
    }

    [Fact]
    public void Fp8_block_scales_are_fp32_per_128x128_tile()
    {
        var t = new WeightTensor("w", TensorRole.FfnUp, 0, Columns: 7168, Rows: 18432);
        Assert.Equal(7168L * 18432 + 56L * 144 * 4, WeightFormat.Parse("fp8-block").Bytes(t));
    }

    [Fact]
    public void Gptq_names_say_whether_activation_order_was_used()
    {
        Assert.True(WeightFormat.Parse("gptq-int4-g128-act").ActOrder);
        Assert.False(WeightFormat.Parse("gptq-int4-g128").ActOrder);
    }

    [Theory]
    [InlineData("gptq-int5")]
    [InlineData("zip")]
    [InlineData("awq-g0")]
    [InlineData("q4_k_x")]
    [InlineData("iq4_k")]
    public void Unknown_or_invalid_formats_are_rejected(string name) =>
        Assert.Throws<VramFit.Errors.InvalidSettingException>(() => WeightFormat.Parse(name));

    [Theory]
    [InlineData("q4_k_m", "Q4_K_M", GgmlType.Q4_K)]
    [InlineData("Q5_K_S", "Q5_K_S", GgmlType.Q5_K)]
    [InlineData("iq3_m", "IQ3_M", GgmlType.IQ3_S)]
    [InlineData("q2_k_s", "Q2_K_S", GgmlType.Q2_K)]
    [InlineData("mxfp4_moe", "MXFP4_MOE", GgmlType.MXFP4)]
    public void Llama_cpp_file_types_keep_their_name_and_main_type(string text, string name, GgmlType main)
    {
        var f = WeightFormat.Parse(text);
        Assert.Equal((WeightFormatKind.Ggml, name, main), (f.Kind, f.Name, f.GgmlType));
    }
}
