using VramFit.Errors;
using VramFit.Validation;

namespace VramFit.Tests.Validation;

/// <summary>vLLM logs in the formats its releases print, read into validation cases.</summary>
public class VllmLogParserTests
{
    /// <summary>vLLM 0.10.1.1 (V1), Qwen2-7B-Instruct on one A100 80GB at 0.25 (the public case's figures).</summary>
    public const string V1Log = """
        INFO 08-26 10:00:00 [api_server.py:1805] vLLM API server version 0.10.1.1
        INFO 08-26 10:00:00 [utils.py:326] non-default args: {'model_tag': 'Qwen/Qwen2-7B-Instruct', 'model': 'Qwen/Qwen2-7B-Instruct', 'max_model_len': 16384, 'gpu_memory_utilization': 0.25}
        INFO 08-26 10:00:05 [config.py:2383] Chunked prefill is enabled with max_num_batched_tokens=2048.
        (EngineCore_0 pid=123) INFO 08-26 10:00:10 [core.py:71] Initializing a V1 LLM engine (v0.10.1.1) with config: model='Qwen/Qwen2-7B-Instruct', speculative_config=None, tokenizer='Qwen/Qwen2-7B-Instruct', skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, override_neuron_config={}, trust_remote_code=False, dtype=torch.bfloat16, max_seq_len=16384, download_dir=None, load_format=auto, tensor_parallel_size=1, pipeline_parallel_size=1, disable_custom_all_reduce=False, quantization=None, enforce_eager=False, kv_cache_dtype=auto, device_config=cuda, enable_prefix_caching=True, chunked_prefill_enabled=True, compilation_config={"level":3,"cudagraph_capture_sizes":[512,504]}
        (EngineCore_0 pid=123) INFO 08-26 10:00:20 [gpu_model_runner.py:1953] Model loading took 14.2488 GiB and 4.94 seconds
        (EngineCore_0 pid=123) INFO 08-26 10:00:30 [gpu_worker.py:276] Available KV cache memory: 5.01 GiB
        (EngineCore_0 pid=123) INFO 08-26 10:00:30 [kv_cache_utils.py:849] GPU KV cache size: 93,872 tokens
        (EngineCore_0 pid=123) INFO 08-26 10:00:30 [kv_cache_utils.py:853] Maximum concurrency for 16,384 tokens per request: 5.73x
        (EngineCore_0 pid=123) INFO 08-26 10:00:45 [gpu_model_runner.py:2567] Graph capturing finished in 15 secs, took 0.50 GiB
        """;

    /// <summary>vLLM 0.6.6 (V0), Phi-4 GPTQ at 0.15 (the public case's figures), with the multi-line profile message.</summary>
    public const string V0Log = """
        INFO 01-10 12:00:00 llm_engine.py:234] Initializing an LLM engine (v0.6.6.post1) with config: model='kaitchup/Phi-4-AutoRound-GPTQ-4bit', speculative_config=None, tokenizer='kaitchup/Phi-4-AutoRound-GPTQ-4bit', skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, trust_remote_code=False, dtype=torch.float16, max_seq_len=2048, download_dir=None, load_format=LoadFormat.AUTO, tensor_parallel_size=1, pipeline_parallel_size=1, disable_custom_all_reduce=False, quantization=gptq_marlin, enforce_eager=False, kv_cache_dtype=auto, quantization_param_path=None, device_config=cuda, seed=0, enable_prefix_caching=False
        INFO 01-10 12:00:20 model_runner.py:1099] Loading model weights took 8.5107 GB
        INFO 01-10 12:00:25 worker.py:241] Memory profiling takes 2.15 seconds
        the current vLLM instance can use total_gpu_memory (79.25GiB) x gpu_memory_utilization (0.15) = 11.89GiB
        model weights take 8.51GiB; non_torch_memory takes 0.26GiB; PyTorch activation peak memory takes 0.94GiB; the rest of the memory reserved for KV Cache is 2.18GiB.
        INFO 01-10 12:00:25 gpu_executor.py:76] # GPU blocks: 715, # CPU blocks: 1310
        INFO 01-10 12:00:25 gpu_executor.py:80] Maximum concurrency for 2048 tokens per request: 5.59x
        INFO 01-10 12:00:40 model_runner.py:1535] Graph capturing finished in 14 secs, took 0.27 GiB
        """;

    [Fact]
    public void V1_log_gives_the_settings_and_figures_of_the_run()
    {
        Assert.True(VllmLogParser.Recognizes(V1Log));
        var c = VllmLogParser.Parse(V1Log, "qwen2");
        Assert.Equal(("vllm", "0.10.1.1 V1", "Qwen/Qwen2-7B-Instruct"), (c.Engine, c.EngineVersion, c.HfId));
        var p = c.Params.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("0.25", p["gpu_memory_utilization"]);
        Assert.Equal("16384", p["max_model_len"]);
        Assert.Equal("2048", p["max_num_batched_tokens"]);
        Assert.Equal("bfloat16", p["dtype"]);
        Assert.Equal("true", p["enable_prefix_caching"]);
        Assert.False(p.ContainsKey("quantization"));
        var o = c.Observed.ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal(14.2488, o["weights_gib"]);
        Assert.Equal(5.01, o["available_kv_gib"]);
        Assert.Equal(93872, o["kv_tokens"]);
        Assert.Equal(5.73, o["max_concurrency"]);
        Assert.Equal(0.5, o["cuda_graph_gib"]);
        Assert.Equal(1, c.Gpu!.Count);
    }

    [Fact]
    public void V0_log_reads_the_multi_line_profile_message()
    {
        var c = VllmLogParser.Parse(V0Log, "phi4");
        Assert.Equal(("0.6.6.post1 V0", "kaitchup/Phi-4-AutoRound-GPTQ-4bit"), (c.EngineVersion, c.HfId));
        var p = c.Params.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(("0.15", "2048", "gptq_marlin", "float16"), (p["gpu_memory_utilization"], p["max_model_len"], p["quantization"], p["dtype"]));
        Assert.Equal((long)Math.Round(79.25 * 1024), c.Gpu!.TotalMib);
        var o = c.Observed.ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal((8.5107, 0.26, 0.94, 2.18, 715, 5.59, 0.27),
            (o["weights_gib"], o["non_torch_gib"], o["activation_peak_gib"], o["kv_cache_gib"], o["gpu_blocks"], o["max_concurrency"], o["cuda_graph_gib"]));
    }

    [Fact]
    public void A_parsed_V0_log_re_estimates_like_its_validation_case()
    {
        // the catalog knows the model; weights are exact to the MiB, the pool +5.5 % (non-torch 0.15 vs 0.26 GiB)
        var result = ValidationRunner.RunCase(VllmLogParser.Parse(V0Log, "phi4"));
        Assert.Equal(CaseResult.Ok, result.Status);
        var weights = result.Figures.Single(f => f.Name == "weights_gib");
        Assert.InRange(weights.Predicted!.Value, 8.5107 - 0.002, 8.5107 + 0.002);
        Assert.InRange(result.Figures.Single(f => f.Name == "gpu_blocks").ErrorPct!.Value, 0, 8);
    }

    [Fact]
    public void Tensor_parallel_figures_are_rank_zeros()
    {
        // V0 prefixes the other workers' lines, continuation lines included; they run no sampler and log a bigger pool
        const string log = """
            INFO 02-12 09:00:00 llm_engine.py:234] Initializing an LLM engine (v0.7.2) with config: model='deepseek-ai/DeepSeek-R1-Distill-Qwen-14B', dtype=torch.bfloat16, max_seq_len=131072, tensor_parallel_size=2, pipeline_parallel_size=1, quantization=None, enforce_eager=False
            (VllmWorkerProcess pid=222) INFO 02-12 09:00:30 model_runner.py:1115] Loading model weights took 13.9476 GB
            (VllmWorkerProcess pid=222) INFO 02-12 09:00:40 worker.py:267] Memory profiling takes 3.10 seconds
            (VllmWorkerProcess pid=222) the current vLLM instance can use total_gpu_memory (23.55GiB) x gpu_memory_utilization (0.98) = 23.08GiB
            (VllmWorkerProcess pid=222) model weights take 13.95GiB; non_torch_memory takes 0.25GiB; PyTorch activation peak memory takes 0.19GiB; the rest of the memory reserved for KV Cache is 8.69GiB.
            INFO 02-12 09:00:30 model_runner.py:1115] Loading model weights took 13.9476 GB
            INFO 02-12 09:00:41 worker.py:267] Memory profiling takes 3.40 seconds
            the current vLLM instance can use total_gpu_memory (23.55GiB) x gpu_memory_utilization (0.98) = 23.08GiB
            model weights take 13.95GiB; non_torch_memory takes 0.25GiB; PyTorch activation peak memory takes 1.42GiB; the rest of the memory reserved for KV Cache is 7.46GiB.
            INFO 02-12 09:00:42 executor_base.py:110] # CUDA blocks: 5096, # CPU blocks: 2730
            """;
        var c = VllmLogParser.Parse(log, "r1");
        var o = c.Observed.ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal((1.42, 7.46, 5096), (o["activation_peak_gib"], o["kv_cache_gib"], o["gpu_blocks"]));
        Assert.Equal(2, c.Gpu!.Count);
        Assert.Equal("0.7.2 V0", c.EngineVersion);
    }

    [Fact]
    public void V0_logs_of_0_8_and_0_9_name_their_engine_V0()
    {
        const string log = """
            INFO 05-01 09:00:00 [llm_engine.py:240] Initializing a V0 LLM engine (v0.8.5) with config: model='Qwen/Qwen2-7B-Instruct', dtype=torch.bfloat16, max_seq_len=8192, tensor_parallel_size=2, pipeline_parallel_size=1, quantization=None, enforce_eager=True
            INFO 05-01 09:00:30 [model_runner.py:1140] Model loading took 7.1217 GiB and 4.2 seconds
            INFO 05-01 09:00:40 [executor_base.py:112] # cuda blocks: 9000, # CPU blocks: 4681
            """;
        Assert.True(VllmLogParser.Recognizes(log));
        var c = VllmLogParser.Parse(log);
        Assert.Equal(("0.8.5 V0", "Qwen/Qwen2-7B-Instruct", 2), (c.EngineVersion, c.HfId, c.Gpu!.Count));
        Assert.Equal(9000, c.Observed.Single(f => f.Name == "gpu_blocks").Value);
    }

    [Fact]
    public void Worker_prefixes_decide_the_rank_whatever_surrounds_them()
    {
        // colour codes around V0's worker prefix, docker's timestamps in front, V1's composite worker names, and a
        // Ray worker whose rank the log does not say (it only fills figures no rank-0 line gave)
        const string log = """
            2026-01-01T00:00:00.000Z \u001b[1;36m(VllmWorkerProcess pid=7)\u001b[0;0m INFO 01-01 00:00:01 model_runner.py:1099] Loading model weights took 9.9999 GB
            (Worker_PP1_TP0 pid=8) INFO 01-01 00:00:02 [gpu_worker.py:276] Available KV cache memory: 7.00 GiB
            (Worker_DP0_PP0_TP1_EP1 pid=9) INFO 01-01 00:00:02 [gpu_worker.py:276] Available KV cache memory: 6.00 GiB
            (RayWorkerWrapper pid=10) INFO 01-01 00:00:03 [model_runner.py:2567] Graph capturing finished in 5 secs, took 0.40 GiB
            2026-01-01T00:00:04.000Z INFO 01-01 00:00:04 model_runner.py:1099] Loading model weights took 8.5107 GB
            (Worker_DP0_PP0_TP0_EP0 pid=11) INFO 01-01 00:00:05 [gpu_worker.py:276] Available KV cache memory: -1.25 GiB
            """;
        var c = VllmLogParser.Parse(log.Replace("\\u001b", "\u001b", StringComparison.Ordinal));
        var o = c.Observed.ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal((8.5107, -1.25, 0.40), (o["weights_gib"], o["available_kv_gib"], o["cuda_graph_gib"]));
    }

    [Fact]
    public void A_log_without_vLLM_figures_is_a_clear_error()
    {
        const string log = "INFO 01-01 00:00:00 llm_engine.py:234] Initializing an LLM engine (v0.6.6) with config: model='x/y'\n";
        Assert.True(VllmLogParser.Recognizes(log));
        Assert.Contains("no vLLM memory figure", Assert.Throws<VramFitException>(() => VllmLogParser.Parse(log)).Message, StringComparison.Ordinal);
        Assert.False(VllmLogParser.Recognizes("print_info: arch = llama\nload_tensors: CPU_Mapped model buffer size = 100.00 MiB\n"));
        Assert.Contains("unreadable number '1.2.3'", Assert.Throws<VramFitException>(() => VllmLogParser.Parse("INFO x model_runner.py] Loading model weights took 1.2.3 GB\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutated_logs_parse_or_fail_with_a_clear_error()
    {
        // lines of the two logs cut, swapped and corrupted at random: a case or a VramFitException, nothing else
        var lines = (V1Log + "\n" + V0Log).Split('\n');
        var random = new Random(20261125);
        for (int i = 0; i < Sources.FuzzIterations.Count / 10; i++)
        {
            var picked = Enumerable.Range(0, random.Next(1, 12)).Select(_ =>
            {
                var line = lines[random.Next(lines.Length)].ToCharArray();
                for (int k = random.Next(0, 4); k > 0 && line.Length > 0; k--)
                    line[random.Next(line.Length)] = "0123456789.,:()'x ="[random.Next(19)];
                return new string(line, 0, random.Next(0, line.Length + 1));
            });
            string log = string.Join('\n', picked);
            try
            {
                var c = VllmLogParser.Parse(log);
                Assert.NotEmpty(c.Observed);
                Assert.All(c.Observed, f => Assert.True(double.IsFinite(f.Value)));
            }
            catch (VramFitException)
            {
            }
        }
    }
}
