using VramFit.Errors;
using VramFit.Models;
using VramFit.Sources.HfConfig;

namespace VramFit.Tests.Sources.HfConfig;

public class HfConfigReaderTests
{
    [Fact]
    public void Catalog_llama_3_1_8B_has_the_published_parameter_count()
    {
        var entry = ModelCatalog.Find("meta-llama/Llama-3.1-8B");
        Assert.Equal(entry.PublishedParameters, TensorInventory.ParameterCount(entry.Describe()));
    }

    [Fact]
    public void Catalog_finds_aliases_and_short_names()
    {
        Assert.Equal("meta-llama/Llama-3.1-8B", ModelCatalog.Find("Llama-3.1-8B-Instruct").Id);
        Assert.Equal("meta-llama/Llama-3.1-8B", ModelCatalog.Find("meta-llama/llama-3.1-8b").Id);
    }

    [Fact]
    public void Unknown_model_type_names_the_supported_ones()
    {
        var e = Assert.Throws<UnsupportedArchitectureException>(() => HfConfigReader.Parse("""{"model_type": "frobnicator"}"""));
        Assert.Contains("frobnicator", e.Message, StringComparison.Ordinal);
        Assert.Contains("llama", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_field_is_named() =>
        Assert.Contains("hidden_size", Assert.Throws<ModelDescriptionException>(() =>
            HfConfigReader.Parse("""{"model_type": "llama", "num_attention_heads": 32}""")).Message, StringComparison.Ordinal);

    [Fact]
    public void Malformed_json_is_a_file_format_error() =>
        Assert.Throws<InvalidFileFormatException>(() => HfConfigReader.Parse("{\"model_type\": "));

    [Fact]
    public void Contradictory_heads_are_rejected() =>
        Assert.Contains("num_key_value_heads", Assert.Throws<ModelDescriptionException>(() => HfConfigReader.Parse(
            """{"model_type":"llama","hidden_size":4096,"num_attention_heads":32,"num_key_value_heads":5,"num_hidden_layers":2,"intermediate_size":100,"vocab_size":10}""")).Message, StringComparison.Ordinal);
}
