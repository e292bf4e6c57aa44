using System.Text.Json;

namespace VramFit.Tests.Cli;

public class FitCommandTests
{
    [Fact]
    public void A_70B_on_one_24GB_card_keeps_some_layers_on_the_cpu_and_prints_the_command()
    {
        var (code, output, err) = EstimateCommandTests.Run("fit", "meta-llama/Llama-3.1-70B", "--gpu", "rtx-4090", "--quant", "q4_k", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("fits").GetBoolean());
        Assert.InRange(root.GetProperty("gpuLayers").GetInt32(), 1, 80);
        Assert.True(root.GetProperty("contextTokens").GetInt64() >= 4096);
        Assert.StartsWith("llama-server ", root.GetProperty("launchCommand").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_model_gets_every_layer_and_its_trained_context()
    {
        var (code, output, _) = EstimateCommandTests.Run("fit", "Qwen/Qwen3-1.7B", "--gpu", "rtx-4090", "--quant", "q4_k", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(40960, doc.RootElement.GetProperty("contextTokens").GetInt64());
    }

    [Fact]
    public void Auto_fit_is_llama_cpp_only_and_needs_a_gpu_size()
    {
        Assert.Equal(2, EstimateCommandTests.Run("fit", "Qwen/Qwen3-1.7B", "--gpu", "rtx-4090", "--engine", "vllm").Code);
        Assert.Equal(2, EstimateCommandTests.Run("fit", "Qwen/Qwen3-1.7B", "--gpu", "24GiB", "--margin", "lots").Code);
    }
}
