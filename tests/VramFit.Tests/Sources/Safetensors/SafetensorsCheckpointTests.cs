using System.Text.Json;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Sources.HfConfig;
using VramFit.Sources.Safetensors;
using static VramFit.Tests.Sources.Safetensors.SafetensorsFixtures;

namespace VramFit.Tests.Sources.Safetensors;

public sealed class SafetensorsCheckpointTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vramfit-st-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static SafetensorsCheckpoint FromTensors(IEnumerable<T> tensors, string? quantizationConfig = null)
    {
        var file = SafetensorsReader.Read(new MemoryStream(Bytes(tensors)), "m.safetensors");
        JsonElement? q = quantizationConfig is null ? null : JsonDocument.Parse(quantizationConfig).RootElement;
        return SafetensorsCheckpoint.FromShards([file], q);
    }

    [Fact]
    public void Config_and_safetensors_header_give_the_same_parameter_count()
    {
        var tensors = Llama(layers: 2, hidden: 128, intermediate: 384, heads: 4, kvHeads: 2, vocab: 1000);
        var checkpoint = FromTensors(tensors);
        var model = HfConfigReader.Parse(LlamaConfig(2, 128, 384, 4, 2, 1000));
        Assert.Equal(TensorInventory.ParameterCount(model), checkpoint.Checkpoint.LogicalParameters);
        Assert.Equal(checkpoint.Checkpoint.LogicalParameters * 2, checkpoint.Checkpoint.TotalBytes);
        Assert.Null(checkpoint.Quantization);
        Assert.Equal("BF16", checkpoint.Checkpoint.FileTypeName);
        Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Checkpoint.Format);
        var byLayer = checkpoint.Checkpoint.BytesByLayer(2);
        Assert.Equal(byLayer[0], byLayer[1]);
        Assert.True(byLayer[0] > 0);
    }

    [Fact]
    public void Sharded_checkpoint_reads_every_shard_named_by_the_index()
    {
        var tensors = Llama(layers: 4, hidden: 64, intermediate: 128, heads: 4, kvHeads: 4, vocab: 100);
        var halves = new[] { tensors.Take(20).ToList(), tensors.Skip(20).ToList() };
        var map = new Dictionary<string, string>();
        for (int i = 0; i < 2; i++)
        {
            string name = $"model-{i + 1:D5}-of-00002.safetensors";
            WriteFile(Path.Combine(dir, name), halves[i]);
            foreach (var t in halves[i])
                map[t.Name] = name;
        }

        File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName),
            JsonSerializer.Serialize(new { metadata = new { total_size = 1 }, weight_map = map }));
        var checkpoint = SafetensorsCheckpoint.ReadFolder(dir)!;
        Assert.Equal(2, checkpoint.Shards.Length);
        Assert.Equal(tensors.Count, checkpoint.Tensors.Length);
        Assert.Equal(FromTensors(tensors).Checkpoint.TotalBytes, checkpoint.Checkpoint.TotalBytes);
        Assert.Equal([0, 1], checkpoint.Tensors.Select(t => t.Shard).Distinct());

        File.Delete(Path.Combine(dir, "model-00002-of-00002.safetensors"));
        Assert.Contains("model-00002-of-00002.safetensors", Assert.Throws<VramFitException>(() => SafetensorsCheckpoint.ReadFolder(dir)).Message);
    }

    [Fact]
    public void Index_naming_a_tensor_no_shard_holds_is_an_error()
    {
        WriteFile(Path.Combine(dir, "a.safetensors"), [new T("x", "F16", 4)]);
        File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName), """{"weight_map":{"x":"a.safetensors","y":"a.safetensors"}}""");
        Assert.Contains("'y'", Assert.Throws<InvalidFileFormatException>(() => SafetensorsCheckpoint.ReadFolder(dir)).Message);
        File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName), """{"weight_map":{"x":"../a.safetensors"}}""");
        Assert.Contains("not a file name", Assert.Throws<InvalidFileFormatException>(() => SafetensorsCheckpoint.ReadFolder(dir)).Message);
    }

    [Theory]
    [InlineData("""{"quant_method":"gptq","bits":4,"group_size":128,"desc_act":false}""", "config.json")]
    [InlineData(null, "tensor names")]
    public void Gptq_logical_parameters_equal_the_unpacked_matrix(string? config, string evidence)
    {
        var tensors = Gptq("model.layers.0.mlp.down_proj", input: 1024, output: 256).Append(new T("model.norm.weight", "F16", 256)).ToList();
        var checkpoint = FromTensors(tensors, config);
        var q = checkpoint.Quantization!;
        Assert.Equal(("gptq", 4, evidence), (q.Method, q.Bits, q.Evidence));
        Assert.Equal(1024L * 256 + 256, checkpoint.Checkpoint.LogicalParameters);
        // Stored bytes equal WeightFormat's GPTQ formula, plus the fp16 norm.
        Assert.Equal(WeightFormat.Parse("gptq-int4-g128").PackedMatrixBytes(1024, 256) + 512, checkpoint.Checkpoint.TotalBytes);
        Assert.Equal(WeightFormatKind.Gptq, q.Format!.Kind);
    }

    [Fact]
    public void Gptq_bits_are_read_from_shapes_when_the_config_is_absent()
    {
        var checkpoint = FromTensors(Gptq("model.layers.0.mlp.up_proj", 512, 256, bits: 8));
        Assert.Equal(8, checkpoint.Quantization!.Bits);
        Assert.Equal(512L * 256, checkpoint.Checkpoint.LogicalParameters);
    }

    [Fact]
    public void Awq_layout()
    {
        long input = 512, output = 256, groups = input / 128;
        T[] tensors = [new("l.qweight", "I32", input, output / 8), new("l.qzeros", "I32", groups, output / 8), new("l.scales", "F16", groups, output)];
        var checkpoint = FromTensors(tensors, """{"quant_method":"awq","bits":4,"group_size":128,"version":"gemm"}""");
        Assert.Equal("awq", checkpoint.Quantization!.Method);
        Assert.Equal(input * output, checkpoint.Checkpoint.LogicalParameters);
        Assert.Equal(WeightFormat.Parse("awq").PackedMatrixBytes(input, output), checkpoint.Checkpoint.TotalBytes);
        Assert.Equal("awq", FromTensors(tensors).Quantization!.Method);
    }

    [Fact]
    public void Bitsandbytes_nf4_with_double_quantization()
    {
        long n = 256 * 512;
        T[] tensors =
        [
            new("l.weight", "U8", n / 2, 1), new("l.weight.absmax", "U8", n / 64), new("l.weight.quant_map", "F32", 16),
            new("l.weight.nested_absmax", "F32", 2), new("l.weight.nested_quant_map", "F32", 256),
            new("l.weight.quant_state.bitsandbytes__nf4", "U8", 120),
        ];
        var fromConfig = FromTensors(tensors, """{"quant_method":"bitsandbytes","load_in_4bit":true,"bnb_4bit_quant_type":"nf4","bnb_4bit_use_double_quant":true}""");
        var fromNames = FromTensors(tensors);
        foreach (var c in new[] { fromConfig, fromNames })
        {
            Assert.Equal("bitsandbytes-nf4", c.Quantization!.Method);
            Assert.Equal(n, c.Checkpoint.LogicalParameters);
            Assert.True(c.Quantization.Format!.DoubleQuant);
        }
    }

    [Fact]
    public void Bitsandbytes_int8_fp8_block_mxfp4_and_compressed_tensors()
    {
        var int8 = FromTensors([new("l.weight", "I8", 64, 32), new("l.SCB", "F32", 64)]);
        Assert.Equal(("bitsandbytes-int8", 64L * 32), (int8.Quantization!.Method, int8.Checkpoint.LogicalParameters));

        var fp8 = FromTensors([new("l.weight", "F8_E4M3", 256, 256), new("l.weight_scale_inv", "F32", 2, 2)],
            """{"quant_method":"fp8","fmt":"e4m3","weight_block_size":[128,128],"activation_scheme":"dynamic"}""");
        Assert.Equal(Fp8ScaleGranularity.Block128, fp8.Quantization!.Format!.Fp8Scales);
        Assert.Equal(256L * 256, fp8.Checkpoint.LogicalParameters);
        Assert.Equal(WeightFormat.Parse("fp8-block").PackedMatrixBytes(256, 256), fp8.Checkpoint.TotalBytes);

        // gpt-oss: experts × out × (in / 32) × 16 bytes of E2M1 pairs, one E8M0 scale per 32.
        var mxfp4 = FromTensors([new("model.layers.0.mlp.experts.down_proj_blocks", "U8", 4, 64, 2, 16), new("model.layers.0.mlp.experts.down_proj_scales", "U8", 4, 64, 2)],
            """{"quant_method":"mxfp4"}""");
        Assert.Equal(4L * 64 * 64, mxfp4.Checkpoint.LogicalParameters);
        Assert.Equal(0, mxfp4.Checkpoint.Tensors[0].Layer);

        var ct = FromTensors([new("l.weight_packed", "I32", 256, 64), new("l.weight_scale", "BF16", 256, 4), new("l.weight_shape", "I64", 2)],
            """{"quant_method":"compressed-tensors","format":"pack-quantized","config_groups":{"group_0":{"targets":["Linear"],"weights":{"num_bits":4,"group_size":128,"type":"int","strategy":"group"}}}}""");
        Assert.Equal(("compressed-tensors", 4, 128), (ct.Quantization!.Method, ct.Quantization.Bits, ct.Quantization.GroupSize));
        Assert.Equal(256L * 512, ct.Checkpoint.LogicalParameters);
    }

    [Theory]
    [InlineData("model.layers.12.self_attn.q_proj.weight", 12)]
    [InlineData("transformer.h.3.attn.c_attn.weight", 3)]
    [InlineData("model.language_model.layers.7.mlp.up_proj.weight", 7)]
    [InlineData("model.embed_tokens.weight", -1)]
    [InlineData("layers.2.x", 2)]
    public void Layer_indices_from_hf_names(string name, int layer) => Assert.Equal(layer, HfTensorNames.LayerOf(name));
}
