using VramFit.Cli;

namespace VramFit.Tests.Cli;

/// <summary>Random option values on every estimating command: user errors exit 2 with one line, never a bug (70).</summary>
public class CliFuzzTests
{
    [Fact]
    public void Random_arguments_never_crash_the_cli()
    {
        var random = new Random(42);
        string[] commands = ["estimate", "inspect", "plan", "max-context", "max-concurrency", "perf"];
        string[] models = ["meta-llama/Llama-3.1-8B", "Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V3", "google/gemma-3-27b-it", "openai/gpt-oss-20b", "nope", "", "/dev/null", "."];
        string[][] options =
        [
            ["--gpu", "rtx-4090"], ["--gpu", "24GiB"], ["--gpu", "-1GB"], ["--gpu", "h100-sxm"], ["--gpu", "zzz"],
            ["--gpus", "2"], ["--gpus", "0"], ["--gpus", "99999"], ["--context", "32k"], ["--context", "0"], ["--context", "1e20"],
            ["--batch", "4"], ["--batch", "-3"], ["--quant", "nf4"], ["--quant", "q4_k"], ["--quant", "bogus"],
            ["--kv-dtype", "fp8"], ["--kv-dtype", "q4_0"], ["--kv-dtype", "x"], ["--engine", "vllm"], ["--engine", "llama.cpp"],
            ["--engine", "sglang"], ["--engine", "tgi"], ["--engine", "tensorrt-llm"], ["--engine", "foo"],
            ["--set", "gpu_memory_utilization=2"], ["--set", "tensor_parallel_size=3"], ["--set", "ctx_size=abc"], ["--set", "="],
            ["--attention", "eager"], ["--dtype", "fp32"], ["--dtype", "int3"],
        ];
        var bugs = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            var command = commands[random.Next(commands.Length)];
            var args = new List<string> { command, models[random.Next(models.Length)], "--offline" };
            int n = random.Next(0, 4);
            for (int k = 0; k < n; k++)
                args.AddRange(options[random.Next(options.Length)]);
            if (command is "inspect")
                args = [.. args.Take(3)];
            if (command is "plan" or "perf")
                args.RemoveAll(a => a is "--offline");
            var (code, _, err) = EstimateCommandTests.Run([.. args]);
            if (code == CliApp.InternalError || (code == CliApp.UserError && !err.StartsWith("error: ", StringComparison.Ordinal) && !err.Contains("Unrecognized", StringComparison.Ordinal)))
                bugs.Add($"{string.Join(' ', args)} → {code}: {err.Split('\n')[0]}");
        }

        Assert.True(bugs.Count == 0, string.Join("\n", bugs.Take(10)));
    }
}
