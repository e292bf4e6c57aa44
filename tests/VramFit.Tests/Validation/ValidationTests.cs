using VramFit.Errors;
using VramFit.Sources.Gguf;
using VramFit.Validation;

namespace VramFit.Tests.Validation;

public class ValidationTests
{
    internal const string Glm4Case = """{"id":"glm4","engine":"llama.cpp","engine_version":"b5192 (e59a5f1e)","model":{"gguf":{"general.architecture":"glm4","glm4.block_count":61,"glm4.embedding_length":6144,"glm4.feed_forward_length":23040,"glm4.attention.head_count":48,"glm4.attention.head_count_kv":2,"glm4.attention.key_length":128,"glm4.attention.value_length":128,"glm4.rope.freq_base":10000.0,"tokenizer.vocab_size":151552,"general.file_type_name":"IQ4_XS","file_size_bytes":17587891077}},"params":{"ctx_size":32768,"ubatch_size":512,"flash_attn":true,"n_gpu_layers":62,"devices":1,"threads":16},"observed":{"model_buffer_mib":{"CUDA0":16303.48,"CPU_Mapped":471.75},"kv_buffer_mib":{"CUDA0":1952.0},"k_mib":976.0,"v_mib":976.0,"kv_cells":32768}}""";

    [Fact]
    public void Observed_figures_flatten_with_dots_and_indices()
    {
        var c = ValidationCaseReader.ParseLine("""{"id":"x","engine":"llama.cpp","observed":{"kv_buffer_mib":{"CUDA0":[3072.0,18.0]},"k_mib":1.5,"memory_breakdown_mib":{"Host":{"model":166}},"note":"text"}}""");
        Assert.Equal(["kv_buffer_mib.CUDA0[0]", "kv_buffer_mib.CUDA0[1]", "k_mib", "memory_breakdown_mib.Host.model"], c.Observed.Select(o => o.Name));
        Assert.Equal([3072.0, 18.0, 1.5, 166.0], c.Observed.Select(o => o.Value));
    }

    [Fact]
    public void Gguf_metadata_keeps_integers_as_long_floats_as_double_and_arrays_as_gguf_arrays()
    {
        var c = ValidationCaseReader.ParseLine("""{"id":"x","engine":"llama.cpp","model":{"gguf":{"a":48,"b":1000000.5,"c":[1,0,1],"d":"Q4_K_M","e":true}}}""");
        var g = c.Gguf!;
        Assert.IsType<long>(g.Get("a"));
        Assert.IsType<double>(g.Get("b"));
        Assert.Equal(3, Assert.IsType<GgufArray>(g.Get("c")).Count);
        Assert.Equal("Q4_K_M", g.GetString("d"));
        Assert.Equal(true, g.GetBool("e"));
    }

    [Fact]
    public void Settings_become_text_and_lists_one_value_per_line()
    {
        var c = ValidationCaseReader.ParseLine("""{"id":"x","engine":"llama.cpp","params":{"flash_attn":true,"ctx_size":4096,"override_tensor":["a=CPU","b=CUDA0"]}}""");
        Assert.Equal("true", c.Params.Single(p => p.Key == "flash_attn").Value);
        Assert.Equal("4096", c.Params.Single(p => p.Key == "ctx_size").Value);
        Assert.Equal(["a=CPU", "b=CUDA0"], c.Params.Single(p => p.Key == "override_tensor").Value.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_malformed_line_names_the_file_and_line()
    {
        var e = Assert.Throws<InvalidFileFormatException>(() => ValidationCaseReader.Read(["", "{\"id\":", ""], "cases.jsonl"));
        Assert.Contains("cases.jsonl:2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_metadata_case_is_estimated_and_kv_is_exact()
    {
        var result = ValidationRunner.RunCase(ValidationCaseReader.ParseLine(Glm4Case));
        Assert.Equal(CaseResult.Ok, result.Status);
        foreach (var name in new[] { "kv_buffer_mib.CUDA0", "k_mib", "v_mib", "kv_cells", "model_buffer_mib.CPU_Mapped" })
            Assert.Equal(0.0, result.Figures.Single(f => f.Name == name).ErrorPct!.Value, 2);
        Assert.InRange(Math.Abs(result.Figures.Single(f => f.Name == "model_buffer_mib.CUDA0").ErrorPct!.Value), 0, 1);
    }

    [Theory]
    [InlineData("""{"id":"a","engine":"vllm-ng","observed":{"x":1}}""", "engine vllm-ng not modelled yet")]
    [InlineData("""{"id":"b","engine":"llama.cpp","model":{"hf_id":"nobody/Nothing-7B"},"observed":{"k_mib":1}}""", "model not in catalog: nobody/Nothing-7B")]
    [InlineData("""{"id":"c","engine":"llama.cpp","model":{"gguf_file":"m.gguf"},"observed":{"k_mib":1}}""", "gguf_file not found: m.gguf")]
    [InlineData("""{"id":"d","engine":"llama.cpp","model":{"gguf":{"general.architecture":"rwkv9"}},"observed":{"k_mib":1}}""", "unsupported architecture 'rwkv9'")]
    public void Unhandled_cases_are_skipped_with_the_reason(string line, string reason)
    {
        var result = ValidationRunner.RunCase(ValidationCaseReader.ParseLine(line));
        Assert.Equal(CaseResult.Skipped, result.Status);
        Assert.StartsWith(reason, result.Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// Qwen2.5-7B-Instruct's published config states 32,768 positions; a run at 131,072 (its YaRN recipe edits the
    /// config) was accepted by the engine, so the case is estimated, and an id of a quantized upload finds its base.
    /// </summary>
    [Fact]
    public void A_vllm_case_longer_than_the_published_config_and_named_by_a_quantized_upload_is_estimated()
    {
        var result = ValidationRunner.RunCase(ValidationCaseReader.ParseLine("""
            {"id":"q","engine":"vllm","engine_version":"0.10.1","gpu":{"name":"NVIDIA H100 80GB HBM3","count":1},
             "model":{"hf_id":"Qwen/Qwen2.5-7B-Instruct-AWQ","needs_config":true},
             "params":{"max_model_len":131072,"gpu_memory_utilization":0.9},"observed":{"kv_tokens":1000000}}
            """));
        Assert.Equal(CaseResult.Ok, result.Status);
        Assert.NotNull(result.Figures.Single().Predicted);
    }

    [Fact]
    public void Unpredicted_figures_are_null_and_count_as_misses()
    {
        var line = Glm4Case.Replace("\"k_mib\":976.0", "\"k_mib\":976.0,\"mystery_mib\":5", StringComparison.Ordinal);
        var report = ValidationRunner.Run([ValidationCaseReader.ParseLine(line)]);
        var miss = report.Cases[0].Figures.Single(f => f.Name == "mystery_mib");
        Assert.Null(miss.Predicted);
        Assert.Null(miss.ErrorPct);
        var row = report.Summary.Single(s => s.Figure == "mystery_mib");
        Assert.Equal((1, 0, ValidationReport.MissErrorPct, 0.0), (row.Cases, row.Skipped, row.MedianAbsErrorPct, row.Within10Pct));
    }

    [Fact]
    public void Summary_statistics_follow_the_schema()
    {
        CaseResult Case(string id, string engine, params double?[] errors) => new(id, engine, CaseResult.Ok, null,
            [.. errors.Select((e, i) => new FigureResult($"kv_buffer_mib.CUDA{i}", 100, e is null ? null : 100 + e, e))]);
        var skipped = new CaseResult("s", "llama.cpp", CaseResult.Skipped, "why", []);
        var report = ValidationReport.From([Case("a", "llama.cpp", 0.5, -2, 8), Case("b", "llama.cpp", 20, null)]);
        var row = Assert.Single(report.Summary);
        Assert.Equal("kv_buffer_mib", row.Figure);
        Assert.Equal(2, row.Cases);
        Assert.Equal(8.0, row.MedianAbsErrorPct);          // |errors| 0.5, 2, 8, 20, 100 (miss)
        Assert.Equal(100.0, row.P95AbsErrorPct);
        Assert.Equal((0.2, 0.4, 0.6), (row.Within1Pct, row.Within5Pct, row.Within10Pct));
        Assert.Empty(ValidationReport.From([skipped]).Summary);   // a skipped case without observed figures has no family
    }

    [Theory]
    [InlineData(new double[] { 1, 2, 3, 4 }, 2.5, 4)]
    [InlineData(new double[] { 5 }, 5, 5)]
    [InlineData(new double[0], 0, 0)]
    public void Median_and_p95_use_midpoint_and_nearest_rank(double[] sorted, double median, double p95)
    {
        Assert.Equal(median, ValidationReport.Median(sorted));
        Assert.Equal(p95, ValidationReport.Percentile(sorted, 0.95));
    }

    [Fact]
    public void Engine_filter_keeps_only_that_engine()
    {
        var cases = new[] { ValidationCaseReader.ParseLine(Glm4Case), ValidationCaseReader.ParseLine("""{"id":"v","engine":"vllm","observed":{"x":1}}""") };
        Assert.Equal(["glm4"], ValidationRunner.Run(cases, "llama.cpp").Cases.Select(c => c.Id));
    }
}

public sealed class ValidationModelSourceTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vramfit-cases-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_gguf_file_next_to_the_case_file_is_read_for_exact_tensors()
    {
        var meta = VramFit.Tests.Sources.Gguf.GgufMetadataFixtures.Meta("llama", (".block_count", 2), (".embedding_length", 256),
            (".feed_forward_length", 512), (".attention.head_count", 4), (".attention.head_count_kv", 2), ("tokenizer.vocab_size", 1000));
        var model = VramFit.Sources.Gguf.GgufModelTranslator.Translate(meta);
        VramFit.Tests.Engines.LlamaCpp.Differential.GgufTestWriter.Write(Path.Combine(dir, "tiny.gguf"), meta, model);
        string cases = Path.Combine(dir, "cases.jsonl");
        File.WriteAllText(cases, """{"id":"tiny","engine":"llama.cpp","model":{"gguf_file":"tiny.gguf"},"params":{"ctx_size":1024,"devices":0},"observed":{"k_mib":1.0}}""");
        var result = Assert.Single(ValidationRunner.RunFiles([cases]).Cases);
        Assert.Equal(CaseResult.Ok, result.Status);
        Assert.Equal(0.5, result.Figures[0].Predicted);            // K: 2 layers × 1024 cells × (2 heads × 64) × 2 B
    }

    [Fact]
    public void A_catalog_model_run_as_a_gguf_type_uses_that_quant_mix()
    {
        const string line = """{"id":"l8","engine":"llama.cpp","model":{"hf_id":"meta-llama/Llama-3.1-8B","gguf_file_type":"Q4_K_M"},"params":{"ctx_size":4096,"n_gpu_layers":99},"observed":{"model_buffer_mib":{"CPU_Mapped":281.81}}}""";
        var result = ValidationRunner.RunCase(ValidationCaseReader.ParseLine(line));
        Assert.Equal(CaseResult.Ok, result.Status);
        // token_embd 128256 × 4096 in q4_K: 281.81 MiB
        Assert.Equal(281.81, result.Figures[0].Predicted!.Value, 1);
    }

    [Fact]
    public void SGLangs_memory_before_loading_is_read_after_its_own_start_up()
    {
        // "avail mem=21.63 GB" at "Load weight begin": SGLang's context and NCCL buffers are already out of it, so
        // the pool uses 21.63 GiB as its "before" reading; an unnamed PCIe GPU at TP 4 runs no custom all-reduce
        const string line = """{"id":"s","engine":"sglang","engine_version":"~0.4.3","gpu":{"count":4},"model":{"hf_id":"Qwen/QwQ-32B"},"params":{"tp_size":4,"context_length":131072},"observed":{"max_total_num_tokens":46611},"observed_extra":{"avail_before_weights_gib":21.63}}""";
        var c = ValidationCaseReader.ParseLine(line);
        Assert.True(c.Gpu!.FreeAfterEngineInit);
        Assert.Equal((long)Math.Round(21.63 * 1024), c.Gpu.FreeMib);
        var result = ValidationRunner.RunCase(c);
        Assert.Equal(CaseResult.Ok, result.Status);
        Assert.InRange(result.Figures[0].Predicted!.Value, 46611 * 0.97, 46611 * 1.03);
        Assert.False(ValidationCaseReader.ParseLine("""{"id":"s","engine":"sglang","gpu":{"count":1,"free_mib":20000},"observed_extra":{"avail_before_weights_gib":19}}""").Gpu!.FreeAfterEngineInit);
    }
}
