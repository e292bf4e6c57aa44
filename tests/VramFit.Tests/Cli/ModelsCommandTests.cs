using System.Text.Json;

namespace VramFit.Tests.Cli;

public class ModelsCommandTests
{
    [Fact]
    public void Json_lists_every_catalog_model_with_library_figures()
    {
        var (code, output, err) = EstimateCommandTests.Run("models", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(VramFit.Models.ModelCatalog.All.Count, rows.Count);
        var llama = rows.Single(r => r.GetProperty("id").GetString() == "meta-llama/Llama-3.1-8B");
        Assert.Equal(8_030_261_248, llama.GetProperty("parameters").GetInt64());
        Assert.Equal(32, llama.GetProperty("layers").GetInt32());
        Assert.Equal(131_072, llama.GetProperty("maxContext").GetInt32());
        Assert.Equal(32L * 8 * 256 * 2, llama.GetProperty("kvBytesPerToken16Bit").GetInt64());
    }

    [Fact]
    public void Family_filter_matches_model_type_prefixes()
    {
        var (code, output, err) = EstimateCommandTests.Run("models", "--family", "deepseek", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.StartsWith("deepseek", r.GetProperty("architecture").GetString(), StringComparison.Ordinal));
        // DeepSeek-V3: 61 decoding layers × 576-element latent × 2 B; the NextN block owns no cache
        var v3 = rows.Single(r => r.GetProperty("id").GetString() == "deepseek-ai/DeepSeek-V3");
        Assert.Equal(61L * 576 * 2, v3.GetProperty("kvBytesPerToken16Bit").GetInt64());
        Assert.Equal(61, v3.GetProperty("layers").GetInt32());
    }

    [Fact]
    public void Table_names_the_models()
    {
        var (code, output, _) = EstimateCommandTests.Run("models", "--family", "gpt_oss");
        Assert.Equal(0, code);
        Assert.Contains("116.83B", output, StringComparison.Ordinal);
        Assert.Contains("2 models", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_family_is_a_one_line_error_naming_the_families()
    {
        var (code, _, err) = EstimateCommandTests.Run("models", "--family", "frobnicator");
        Assert.Equal(2, code);
        Assert.Contains("qwen3_next", err, StringComparison.Ordinal);
    }
}
