using System.Text.Json;
using VramFit.Cli;

namespace VramFit.Tests.Cli;

public class EstimateCommandTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Json_has_the_documented_stable_properties_in_bytes()
    {
        var (code, output, err) = Run("estimate", "meta-llama/Llama-3.1-8B", "--gpu", "24GiB", "--context", "8k", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(8_030_261_248, root.GetProperty("parameters").GetInt64());
        Assert.True(root.GetProperty("fits").GetBoolean());
        var gpu = root.GetProperty("gpus")[0];
        foreach (var name in new[] { "weightBytes", "kvCacheBytes", "activationBytes", "overheadBytes", "totalBytes" })
            Assert.True(gpu.GetProperty(name).GetInt64() > 0, name);
        Assert.Equal(1L << 30, gpu.GetProperty("kvCacheBytes").GetInt64());
        Assert.Equal(
            gpu.GetProperty("totalBytes").GetInt64(),
            gpu.GetProperty("items").EnumerateArray().Sum(i => i.GetProperty("bytes").GetInt64()));
    }

    [Fact]
    public void Human_output_gives_the_verdict_and_the_rule_of_thumb_beside_it()
    {
        var (code, output, _) = Run("estimate", "Llama-3.1-8B", "--gpu", "16GB", "--context", "8192", "--method", "rule-of-thumb");
        Assert.Equal(0, code);
        Assert.Contains("DOES NOT FIT", output, StringComparison.Ordinal);
        Assert.Contains("rule of thumb", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_shows_formulas_and_sources()
    {
        var (code, output, _) = Run("estimate", "Llama-3.1-8B", "--explain");
        Assert.Equal(0, code);
        Assert.Contains("source: PyTorch", output, StringComparison.Ordinal);
        Assert.Contains("no verdict", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("estimate", "no-such-model/at-all")]
    [InlineData("estimate", "Llama-3.1-8B", "--gpu", "lots")]
    [InlineData("estimate", "Llama-3.1-8B", "--context", "-5")]
    [InlineData("estimate", "Llama-3.1-8B", "--quant", "int3-magic")]
    [InlineData("estimate", "Llama-3.1-8B", "--set", "ctx_size")]
    [InlineData("estimate", "Llama-3.1-8B", "--engine", "deepspeed")]
    public void User_errors_exit_2_with_one_line_and_no_stack_trace(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void A_config_json_path_is_a_model()
    {
        var dir = Directory.CreateTempSubdirectory("vramfit-");
        try
        {
            var config = VramFit.Models.ModelCatalog.Find("meta-llama/Llama-3.1-8B").Config.GetRawText();
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), config);
            var (code, output, err) = Run("estimate", dir.FullName, "--json");
            Assert.True(code == 0, err);
            Assert.Contains("\"parameters\": 8030261248", output, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), "{\"model_type\": \"llama\"");
            Assert.Equal(CliApp.UserError, Run("estimate", dir.FullName).Code);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
