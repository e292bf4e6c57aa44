using VramFit.Errors;
using VramFit.Validation;

namespace VramFit.Tests.Validation;

/// <summary>SGLang server logs read into validation cases.</summary>
public class SglangLogParserTests
{
    /// <summary>The public QwQ-32B TP4 run (sglang-qwq-32b-tp4-4x24gb-pcie), as SGLang 0.4 prints it.</summary>
    public const string QwqLog = """
        [2025-03-06 10:00:00] server_args=ServerArgs(model_path='Qwen/QwQ-32B', tokenizer_path='Qwen/QwQ-32B', tokenizer_mode='auto', load_format='auto', trust_remote_code=False, dtype='bfloat16', kv_cache_dtype='auto', quantization=None, context_length=None, device='cuda', served_model_name='Qwen/QwQ-32B', chat_template=None, is_embedding=False, revision=None, host='127.0.0.1', port=30000, mem_fraction_static=0.85, max_running_requests=None, max_total_tokens=None, chunked_prefill_size=2048, max_prefill_tokens=16384, schedule_policy='fcfs', tp_size=4, stream_interval=1, random_seed=1, disable_cuda_graph=False)
        [2025-03-06 10:00:10 TP0] Load weight begin. avail mem=21.63 GB
        [2025-03-06 10:00:10 TP1] Load weight begin. avail mem=21.70 GB
        [2025-03-06 10:01:10 TP1] Load weight end. type=Qwen2ForCausalLM, dtype=torch.bfloat16, avail mem=6.16 GB, mem usage=15.60 GB.
        [2025-03-06 10:01:10 TP0] Load weight end. type=Qwen2ForCausalLM, dtype=torch.bfloat16, avail mem=6.09 GB, mem usage=15.54 GB.
        [2025-03-06 10:01:11 TP0] KV Cache is allocated. #tokens: 46611, K size: 1.42 GB, V size: 1.42 GB
        [2025-03-06 10:01:11 TP0] Memory pool end. avail mem=2.09 GB
        [2025-03-06 10:01:20 TP0] Capture cuda graph end. Time elapsed: 8.51 s. mem usage=0.93 GB. avail mem=0.53 GB.
        [2025-03-06 10:01:21 TP0] max_total_num_tokens=46611, chunked_prefill_size=2048, max_prefill_tokens=16384, max_running_requests=2049, context_len=131072
        """;

    [Fact]
    public void Reads_settings_reading_before_loading_and_figures_of_TP0()
    {
        Assert.True(SglangLogParser.Recognizes(QwqLog));
        Assert.False(VllmLogParser.Recognizes(QwqLog));
        var c = SglangLogParser.Parse(QwqLog, "qwq");
        Assert.Equal(("sglang", "Qwen/QwQ-32B", 4), (c.Engine, c.HfId, c.Gpu!.Count));
        var p = c.Params.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(("4", "0.85", "2048", "131072", "bfloat16"), (p["tp_size"], p["mem_fraction_static"], p["chunked_prefill_size"], p["context_length"], p["dtype"]));
        Assert.False(p.ContainsKey("quantization"));
        Assert.True(c.Gpu.FreeAfterEngineInit);
        Assert.Equal((long)Math.Round(21.63 * 1024), c.Gpu.FreeMib);
        var o = c.Observed.ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal((15.54, 46611, 1.42, 1.42), (o["weights_gib"], o["max_total_num_tokens"], o["k_gib"], o["v_gib"]));
    }

    [Fact]
    public void A_parsed_log_re_estimates_like_the_public_case_and_round_trips()
    {
        var c = SglangLogParser.Parse(QwqLog, "qwq");
        var result = ValidationRunner.RunCase(c);
        Assert.Equal(CaseResult.Ok, result.Status);
        Assert.InRange(result.Figures.Single(f => f.Name == "max_total_num_tokens").ErrorPct!.Value, -3, 3);
        var again = ValidationCaseReader.ParseLine(ValidationCaseWriter.ToJsonLine(c));
        Assert.Equal(c.Gpu!.FreeMib, again.Gpu!.FreeMib);
        Assert.True(again.Gpu.FreeAfterEngineInit);
        Assert.Equal(result.Figures.Select(f => f.Predicted), ValidationRunner.RunCase(again).Figures.Select(f => f.Predicted));
    }

    [Fact]
    public void A_log_without_figures_is_a_clear_error() =>
        Assert.Contains("no SGLang memory figure", Assert.Throws<VramFitException>(() =>
            SglangLogParser.Parse("[2025-03-06 10:00:00] server_args=ServerArgs(model_path='x/y', tp_size=1)\n")).Message, StringComparison.Ordinal);
}
