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

    [Fact]
    public void Reads_a_vLLM_log_too()
    {
        File.WriteAllText(file, VllmLogParserTests.V0Log);
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file], output, new StringWriter()));
        Assert.Contains("kv_cache_gib", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"engine\":\"vllm\"", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"total_mib\":81152", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_outside_the_catalog_takes_its_config()
    {
        File.WriteAllText(file, VllmLogParserTests.V1Log.Replace("Qwen/Qwen2-7B-Instruct", "my-org/my-model", StringComparison.Ordinal));
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file], output, new StringWriter()));
        Assert.Contains("model not in catalog: my-org/my-model", output.ToString(), StringComparison.Ordinal);

        string config = Path.ChangeExtension(file, ".json");
        try
        {
            File.WriteAllText(config, """
                {"model_type":"qwen2","hidden_size":3584,"num_attention_heads":28,"num_key_value_heads":4,"num_hidden_layers":28,
                 "intermediate_size":18944,"vocab_size":152064,"max_position_embeddings":32768,"torch_dtype":"bfloat16","tie_word_embeddings":false}
                """);
            output = new StringWriter();
            Assert.Equal(0, CliApp.Run(["explain-log", file, "--config", config], output, new StringWriter()));
            Assert.Contains("weights_gib", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("\"hf_config\":{", output.ToString(), StringComparison.Ordinal);
            // a broken config is a one-line error, not a crash
            File.WriteAllText(config, "{ not json");
            var error = new StringWriter();
            Assert.NotEqual(0, CliApp.Run(["explain-log", file, "--config", config], new StringWriter(), error));
            Assert.Contains(config, error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void A_log_without_its_memory_total_says_so_and_takes_the_GPU_by_name()
    {
        File.WriteAllText(file, VllmLogParserTests.V1Log);
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file], output, new StringWriter()));
        Assert.Contains("estimated on an 80 GiB card (give --gpu)", output.ToString(), StringComparison.Ordinal);

        output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file, "--gpu", "a100-sxm4-80gb"], output, new StringWriter()));
        Assert.DoesNotContain("80 GiB card", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"name\":\"NVIDIA A100 SXM4 80GB\"", output.ToString(), StringComparison.Ordinal);

        var error = new StringWriter();
        Assert.NotEqual(0, CliApp.Run(["explain-log", file, "--gpu", "no-such-gpu"], new StringWriter(), error));
        Assert.Contains("not in the GPU catalog", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_an_SGLang_log_too()
    {
        File.WriteAllText(file, SglangLogParserTests.QwqLog);
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["explain-log", file], output, new StringWriter()));
        Assert.Contains("max_total_num_tokens", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"engine\":\"sglang\"", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"avail_before_weights_gib\":21.63", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("80 GiB card", output.ToString(), StringComparison.Ordinal);
    }
}
