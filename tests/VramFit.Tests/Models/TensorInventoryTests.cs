using VramFit.Models;

namespace VramFit.Tests.Models;

public class TensorInventoryTests
{
    private static ModelDescription Llama31_8B() => new(
        "llama",
        hiddenSize: 4096,
        vocabSize: 128256,
        layers: Enumerable.Range(0, 32).Select(_ => new LayerSpec
        {
            Attention = new AttentionSpec { Kind = AttentionKind.Full, HeadCount = 32, KvHeadCount = 8, KeyHeadDim = 128, ValueHeadDim = 128 },
            Mlp = new MlpSpec { Kind = MlpKind.Dense, FfnSize = 14336 },
        }));

    [Fact]
    public void Llama_3_1_8B_has_its_published_parameter_count() =>
        // safetensors total_size 16,060,522,496 B / 2 B (bf16)
        Assert.Equal(8_030_261_248L, TensorInventory.ParameterCount(Llama31_8B()));

    [Fact]
    public void Names_follow_gguf_and_layers_are_tagged()
    {
        var tensors = TensorInventory.Build(Llama31_8B());
        Assert.Equal(3 + 32 * 9, tensors.Length);
        Assert.Contains(tensors, t => t.Name == "blk.31.ffn_down.weight" && t.Layer == 31 && t.Columns == 14336 && t.Rows == 4096);
        Assert.Contains(tensors, t => t.Name == "output.weight" && t.Layer == -1);
    }

    [Fact]
    public void Tied_embeddings_drop_the_output_head()
    {
        var m = Llama31_8B();
        var tied = new ModelDescription(m.Architecture, m.HiddenSize, m.VocabSize, m.Layers, tiedEmbeddings: true);
        Assert.Equal(8_030_261_248L - 4096L * 128256, TensorInventory.ParameterCount(tied));
    }

    [Fact]
    public void Fused_gate_up_is_one_ffn_up_of_twice_the_width_and_keeps_the_parameter_count()
    {
        var m = Llama31_8B();
        var fused = new ModelDescription("phi3", m.HiddenSize, m.VocabSize,
            [.. m.Layers.Select(l => l with { Mlp = l.Mlp with { FusedGateUp = true } })]);
        var tensors = TensorInventory.Build(fused);
        Assert.DoesNotContain(tensors, t => t.Name.StartsWith("blk.0.ffn_gate", StringComparison.Ordinal));
        Assert.Contains(tensors, t => t.Name == "blk.0.ffn_up.weight" && t.Columns == 4096 && t.Rows == 2 * 14336);
        Assert.Equal(TensorInventory.ParameterCount(m), TensorInventory.ParameterCount(fused));
    }

    [Theory]
    [InlineData("gpt-oss")]
    [InlineData("gpt_oss")]
    public void Gpt_oss_names_its_ffn_norm_post_attention_norm_as_llama_cpp_loads_it(string architecture)
    {
        var m = Llama31_8B();
        var tensors = TensorInventory.Build(new ModelDescription(architecture, m.HiddenSize, m.VocabSize, m.Layers));
        Assert.Contains(tensors, t => t.Name == "blk.3.post_attention_norm.weight");
        Assert.DoesNotContain(tensors, t => t.Name == "blk.3.ffn_norm.weight");
    }
}
