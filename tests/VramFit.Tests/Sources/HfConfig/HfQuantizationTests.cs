using VramFit.Errors;
using VramFit.Numerics;
using VramFit.Sources.HfConfig;

namespace VramFit.Tests.Sources.HfConfig;

/// <summary>quantization_config blocks as the quantizers write them, read into weight formats.</summary>
public class HfQuantizationTests
{
    private static WeightFormat? Format(string quantization) => HfConfigReader.Parse($$"""
        {"model_type":"llama","hidden_size":256,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":512,
         "vocab_size":1000,"torch_dtype":"bfloat16","quantization_config":{{quantization}}}
        """).CheckpointFormat;

    [Fact]
    public void Unquantized_config_has_no_format() =>
        Assert.Null(HfConfigReader.Parse("""{"model_type":"llama","hidden_size":256,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":512,"vocab_size":1000}""").CheckpointFormat);

    [Fact]
    public void Gptq_reads_bits_group_and_desc_act()
    {
        var f = Format("""{"bits":4,"group_size":128,"desc_act":true,"sym":true,"quant_method":"gptq"}""")!;
        Assert.Equal((WeightFormatKind.Gptq, 4, 128, true), (f.Kind, f.Bits, f.GroupSize, f.HasGroupIndex));
        Assert.Equal("gptq-int4-g128-act", f.Name);
        Assert.True(f.ActOrder);
        Assert.True(f.Symmetric);
        // the checkpoint stores qzeros and g_idx whatever sym and desc_act say
        Assert.True(f.HasZeroPoints);
        var asymmetric = Format("""{"bits":4,"group_size":128,"sym":false,"quant_method":"gptq"}""")!;
        Assert.False(asymmetric.Symmetric);
        Assert.False(asymmetric.ActOrder);
    }

    [Fact]
    public void Awq_reads_bits_and_group() =>
        Assert.Equal((WeightFormatKind.Awq, 4, 64), Format("""{"bits":4,"group_size":64,"quant_method":"awq","version":"gemm","zero_point":true}""") is { } f ? (f.Kind, f.Bits, f.GroupSize) : default);

    [Fact]
    public void Bitsandbytes_nf4_with_double_quant()
    {
        var f = Format("""{"quant_method":"bitsandbytes","load_in_4bit":true,"bnb_4bit_quant_type":"nf4","bnb_4bit_use_double_quant":true,"bnb_4bit_compute_dtype":"bfloat16"}""")!;
        Assert.Equal((WeightFormatKind.BnbNf4, true), (f.Kind, f.DoubleQuant));
    }

    [Fact]
    public void Bitsandbytes_8bit() =>
        Assert.Equal(WeightFormatKind.BnbInt8, Format("""{"quant_method":"bitsandbytes","load_in_8bit":true}""")!.Kind);

    [Fact]
    public void Fp8_with_and_without_blocks()
    {
        Assert.Equal(Fp8ScaleGranularity.Block128, Format("""{"quant_method":"fp8","activation_scheme":"dynamic","fmt":"e4m3","weight_block_size":[128,128]}""")!.Fp8Scales);
        Assert.Equal(Fp8ScaleGranularity.PerTensor, Format("""{"quant_method":"fp8","activation_scheme":"static"}""")!.Fp8Scales);
        Assert.Contains("weight_block_size", Assert.Throws<ModelDescriptionException>(() => Format("""{"quant_method":"fp8","weight_block_size":[64,64]}""")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("float", 8, "channel", true, WeightFormatKind.Fp8)]
    [InlineData("int", 8, "channel", true, WeightFormatKind.Int8SmoothQuant)]
    [InlineData("int", 8, "channel", false, WeightFormatKind.Int8WeightOnly)]
    [InlineData("int", 4, "group", false, WeightFormatKind.Gptq)]
    [InlineData("float", 4, "tensor_group", true, WeightFormatKind.Nvfp4)]
    public void Compressed_tensors_schemes(string type, int bits, string strategy, bool activations, WeightFormatKind kind)
    {
        var input = activations ? $$""","input_activations":{"num_bits":{{bits}},"type":"{{type}}","strategy":"token","dynamic":true}""" : "";
        var f = Format($$$"""
            {"quant_method":"compressed-tensors","format":"x","config_groups":{"group_0":{"targets":["Linear"],
             "weights":{"num_bits":{{{bits}}},"type":"{{{type}}}","strategy":"{{{strategy}}}","group_size":128,"symmetric":true}{{{input}}}}},"ignore":["lm_head"]}
            """)!;
        Assert.Equal(kind, f.Kind);
    }

    [Fact]
    public void Unknown_method_is_named() =>
        Assert.Contains("exl3", Assert.Throws<ModelDescriptionException>(() => Format("""{"quant_method":"exl3"}""")).Message, StringComparison.Ordinal);

    [Fact]
    public void Gptq_packs_only_block_matrices()
    {
        var m = HfConfigReader.Parse("""
            {"model_type":"llama","hidden_size":256,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":512,
             "vocab_size":1000,"torch_dtype":"float16","quantization_config":{"bits":4,"group_size":128,"quant_method":"gptq"}}
            """);
        var profile = VramFit.Models.ModelProfile.Create(m);
        // embeddings and head stay fp16: 2 × 1000 × 256 × 2 B
        Assert.Equal(2L * 1000 * 256 * 2, profile.EmbeddingBytes + profile.OutputHeadBytes);
        Assert.True(profile.LayerWeightBytes[0] < VramFit.Models.ModelProfile.Create(m.WithFormat(null)).LayerWeightBytes[0] / 3);
    }
}
