using System.Text.Json;

namespace VramFit.Tests.Cli;

public class PlanCommandTests
{
    [Fact]
    public void Json_lists_ranked_options_with_launch_commands()
    {
        var (code, output, err) = EstimateCommandTests.Run("plan", "meta-llama/Llama-3.1-8B", "--gpu", "rtx-4090", "--context", "8k", "--json", "--top", "5");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var options = doc.RootElement.GetProperty("options").EnumerateArray().ToList();
        Assert.InRange(options.Count, 1, 10);
        Assert.Equal(1, options[0].GetProperty("rank").GetInt32());
        Assert.All(options, o => Assert.False(string.IsNullOrEmpty(o.GetProperty("launchCommand").GetString())));
    }

    [Fact]
    public void Nothing_fitting_exits_1_with_reasons()
    {
        var (code, output, _) = EstimateCommandTests.Run("plan", "meta-llama/Llama-3.1-405B", "--gpu", "8GiB", "--engine", "transformers");
        Assert.Equal(1, code);
        Assert.Contains("nothing fits", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Max_context_answers_with_a_number()
    {
        var (code, output, err) = EstimateCommandTests.Run("max-context", "meta-llama/Llama-3.1-8B", "--gpu", "rtx-4090", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("value").GetInt64() > 1000);
    }
}
