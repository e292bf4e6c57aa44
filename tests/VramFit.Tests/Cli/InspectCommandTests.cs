using System.Text.Json;

namespace VramFit.Tests.Cli;

public class InspectCommandTests
{
    [Fact]
    public void Json_carries_parameters_layout_and_kv_per_token()
    {
        var (code, output, err) = EstimateCommandTests.Run("inspect", "meta-llama/Llama-3.1-8B", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(8_030_261_248, root.GetProperty("parameters").GetInt64());
        Assert.Equal("llama", root.GetProperty("architecture").GetString());
        Assert.Equal(32L * 8 * 256 * 2, root.GetProperty("kvBytesPerToken16Bit").GetInt64());
        var run = Assert.Single(root.GetProperty("layerLayout").EnumerateArray());
        Assert.Equal(31, run.GetProperty("last").GetInt32());
    }

    [Fact]
    public void Unknown_model_is_a_one_line_error()
    {
        var (code, _, err) = EstimateCommandTests.Run("inspect", "Llama-9.9-1T");
        Assert.Equal(2, code);
        Assert.Contains("not in the model catalog", err, StringComparison.Ordinal);
    }
}
