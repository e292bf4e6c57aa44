using System.Text.Json;
using VramFit.Cli;
using VramFit.Tests.Validation;

namespace VramFit.Tests.Cli.Commands;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"vramfit-validate-{Guid.NewGuid():N}.jsonl");

    public ValidateCommandTests() => File.WriteAllLines(file,
    [
        ValidationTests.Glm4Case,
        """{"id":"skip-me","engine":"mlc-llm","observed":{"max_batch_total_tokens":1000}}""",
    ]);

    public void Dispose() => File.Delete(file);

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Json_output_has_the_schema_shape()
    {
        var (code, output, _) = Run("validate", file, "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var cases = doc.RootElement.GetProperty("cases");
        Assert.Equal(2, cases.GetArrayLength());
        var first = cases[0];
        Assert.Equal(["id", "engine", "status", "reason", "figures"], first.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("reason").ValueKind);
        Assert.Equal(["name", "observed", "predicted", "errorPct"], first.GetProperty("figures")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("skipped", cases[1].GetProperty("status").GetString());
        Assert.Equal("engine mlc-llm not modelled yet", cases[1].GetProperty("reason").GetString());
        var row = doc.RootElement.GetProperty("summary").EnumerateArray().First(r => r.GetProperty("figure").GetString() == "k_mib");
        Assert.Equal(["engine", "figure", "cases", "skipped", "medianAbsErrorPct", "p95AbsErrorPct", "within1Pct", "within5Pct", "within10Pct"],
            row.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1.0, row.GetProperty("within1Pct").GetDouble());
    }

    [Fact]
    public void Output_is_stable_between_runs() => Assert.Equal(Run("validate", file, "--json").Out, Run("validate", file, "--json").Out);

    [Fact]
    public void Tables_show_cases_skips_and_summary()
    {
        var (code, output, _) = Run("validate", file);
        Assert.Equal(0, code);
        Assert.Contains("kv_buffer_mib.CUDA0", output, StringComparison.Ordinal);
        Assert.Contains("engine mlc-llm not modelled yet", output, StringComparison.Ordinal);
        Assert.Contains("summary", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Engine_filter_and_missing_files()
    {
        Assert.DoesNotContain("skip-me", Run("validate", file, "--json", "--engine", "llama.cpp").Out, StringComparison.Ordinal);
        var (code, _, err) = Run("validate", file + ".missing");
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith("error:", err, StringComparison.Ordinal);
    }
}
