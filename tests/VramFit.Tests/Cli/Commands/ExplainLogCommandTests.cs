using VramFit.Cli;
using VramFit.Tests.Validation;

namespace VramFit.Tests.Cli.Commands;

public sealed class ExplainLogCommandTests : IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"vramfit-log-{Guid.NewGuid():N}.log");

    public ExplainLogCommandTests() => File.WriteAllText(file, LlamaCppLogParserTests.GptOssLog);

    public void Dispose() => File.Delete(file);

    [Fact]
    public void Shows_printed_vs_estimated_and_the_case_line()
    {
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file], output, new StringWriter()));
        Assert.Contains("kv_buffer_mib.CUDA0[1]", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"engine\":\"llama.cpp\"", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Case_option_prints_one_jsonl_line()
    {
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file, "--case"], output, new StringWriter()));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("{\"id\":", lines[0], StringComparison.Ordinal);
    }
}
