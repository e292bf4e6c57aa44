using VramFit.Validation;

namespace VramFit.Tests.Validation;

public class LlamaCppLogParserTests
{
    /// <summary>The shape of a mainline llama-server log (gpt-oss-20b, iSWA: two KV caches).</summary>
    internal const string GptOssLog = """
        build: 6699 (c08002a1) with cc (GCC) 13.3.0 for x86_64-linux-gnu
        print_info: file format = GGUF V3 (latest)
        print_info: file type   = MXFP4 MoE
        print_info: file size   = 11.27 GiB (4.63 BPW)
        print_info: arch             = gpt-oss
        print_info: n_ctx_train      = 131072
        print_info: n_embd           = 2880
        print_info: n_layer          = 24
        print_info: n_head           = 64
        print_info: n_head_kv        = 8
        print_info: n_swa            = 128
        print_info: n_embd_head_k    = 64
        print_info: n_embd_head_v    = 64
        print_info: n_ff             = 2880
        print_info: n_expert         = 32
        print_info: n_expert_used    = 4
        print_info: model params     = 20.91 B
        print_info: n_vocab          = 201088
        print_info: n_ff_exp         = 2880
        load_tensors: offloaded 25/25 layers to GPU
        load_tensors:        CUDA0 model buffer size =  1242.03 MiB
        load_tensors:   CPU_Mapped model buffer size = 10949.33 MiB
        llama_context: n_ctx         = 131072
        llama_context: n_batch       = 2048
        llama_context: n_ubatch      = 512
        llama_context: flash_attn    = enabled
        llama_context:  CUDA_Host  output buffer size =     0.77 MiB
        llama_kv_cache:      CUDA0 KV buffer size =  3072.00 MiB
        llama_kv_cache: size = 3072.00 MiB (131072 cells,  12 layers,  1/1 seqs), K (f16): 1536.00 MiB, V (f16): 1536.00 MiB
        llama_kv_cache:      CUDA0 KV buffer size =    18.00 MiB
        llama_kv_cache: size =   18.00 MiB (   768 cells,  12 layers,  1/1 seqs), K (f16):    9.00 MiB, V (f16):    9.00 MiB
        llama_context:      CUDA0 compute buffer size =   456.98 MiB
        llama_context:  CUDA_Host compute buffer size =   263.15 MiB
        """;

    [Fact]
    public void A_mainline_log_becomes_a_case_with_its_printed_figures()
    {
        var c = LlamaCppLogParser.Parse(GptOssLog, "gptoss");
        Assert.Equal(("llama.cpp", "6699 (c08002a1)"), (c.Engine, c.EngineVersion));
        Assert.Equal("gpt-oss", c.Gguf!.Architecture);
        Assert.Equal(24L, c.Gguf.GetLong("gpt-oss.block_count"));
        Assert.Equal("MXFP4_MOE", c.Gguf.GetString("general.file_type_name"));
        Assert.Equal(201088L, c.Gguf.GetLong("tokenizer.vocab_size"));
        var settings = c.Params.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(("131072", "512", "true", "25", "f16", "1"), (settings["ctx_size"], settings["ubatch_size"], settings["flash_attn"], settings["n_gpu_layers"], settings["cache_type_k"], settings["devices"]));
        var observed = c.Observed.ToDictionary(o => o.Name, o => o.Value);
        Assert.Equal(3072.0, observed["kv_buffer_mib.CUDA0[0]"]);
        Assert.Equal(18.0, observed["kv_buffer_mib.CUDA0[1]"]);
        Assert.Equal(768.0, observed["kv_cells[1]"]);
        Assert.Equal(9.0, observed["v_mib[1]"]);
        Assert.Equal(263.15, observed["compute_buffer_mib.CUDA_Host"]);
        Assert.Equal(10949.33, observed["model_buffer_mib.CPU_Mapped"]);
    }

    [Fact]
    public void The_case_round_trips_through_the_jsonl_format()
    {
        var c = LlamaCppLogParser.Parse(GptOssLog, "gptoss");
        var line = ValidationCaseWriter.ToJsonLine(c);
        var back = ValidationCaseReader.ParseLine(line);
        Assert.Equal(c.Observed.OrderBy(o => o.Name, StringComparer.Ordinal), back.Observed.OrderBy(o => o.Name, StringComparer.Ordinal));
        Assert.Equal(c.Params, back.Params.Select(p => new KeyValuePair<string, string>(p.Key, p.Value.TrimEnd('\n'))));
        Assert.Equal(c.Gguf!.GetLong("gpt-oss.expert_count"), back.Gguf!.GetLong("gpt-oss.expert_count"));
    }

    [Fact]
    public void The_re_estimate_reproduces_the_kv_caches()
    {
        var result = ValidationRunner.RunCase(LlamaCppLogParser.Parse(GptOssLog));
        Assert.Equal(CaseResult.Ok, result.Status);
        foreach (var name in new[] { "kv_buffer_mib.CUDA0[0]", "kv_buffer_mib.CUDA0[1]", "k_mib[0]", "k_mib[1]", "kv_cells[1]", "compute_buffer_mib.CUDA_Host" })
            Assert.InRange(Math.Abs(result.Figures.Single(f => f.Name == name).ErrorPct!.Value), 0, 0.1);
    }

    [Fact]
    public void Ik_llama_logs_are_recognised_and_old_prefixes_parse()
    {
        const string log = """
            llm_load_print_meta: arch             = llama
            llm_load_print_meta: n_embd           = 5120
            llm_load_print_meta: n_layer          = 40
            llm_load_print_meta: n_head           = 40
            llm_load_print_meta: n_head_kv        = 40
            llm_load_print_meta: n_ff             = 13824
            llm_load_print_meta: n_vocab          = 32000
            llm_load_tensors:        CPU buffer size = 13189.86 MiB
            llama_new_context_with_model: n_ctx      = 512
            llama_new_context_with_model: mla_attn   = 0
            llama_new_context_with_model: fused_moe  = 0
            llama_kv_cache_init:  CUDA_Host KV buffer size =   400.00 MiB
            llama_new_context_with_model: KV self size  =  400.00 MiB, K (f16):  200.00 MiB, V (f16):  200.00 MiB
            """;
        var c = LlamaCppLogParser.Parse(log);
        Assert.Equal("ik_llama.cpp", c.Engine);
        Assert.Equal(["model_buffer_mib.CPU", "kv_buffer_mib.CUDA_Host", "k_mib", "v_mib"], c.Observed.Select(o => o.Name));
    }

    [Fact]
    public void Text_that_is_not_a_llama_cpp_log_is_refused() =>
        Assert.Throws<Errors.VramFitException>(() => LlamaCppLogParser.Parse("hello\nworld"));
}

public class LlamaCppOutOfMemoryLogTests
{
    [Fact]
    public void A_failed_model_allocation_becomes_the_observed_model_buffer()
    {
        // lcpp-python-dolphin-mixtral-8x7b-q4km-cuda-oom-alloc: the 25145.56 MiB CUDA0 model buffer did not fit
        const string log = """
            llm_load_print_meta: arch             = llama
            llm_load_print_meta: n_embd           = 4096
            llm_load_print_meta: n_layer          = 32
            llm_load_print_meta: n_head           = 32
            llm_load_print_meta: n_head_kv        = 8
            llm_load_print_meta: n_ff             = 14336
            llm_load_print_meta: n_expert         = 8
            llm_load_print_meta: n_expert_used    = 2
            llm_load_print_meta: n_vocab          = 32002
            llm_load_print_meta: model ftype      = Q4_K - Medium
            ggml_backend_cuda_buffer_type_alloc_buffer: allocating 25145.56 MiB on device 0: cudaMalloc failed: out of memory
            llama_model_load: error loading model: unable to allocate backend buffer
            """;
        var c = VramFit.Validation.LlamaCppLogParser.Parse(log);
        Assert.Equal(new VramFit.Validation.ObservedFigure("model_buffer_mib.CUDA0", 25145.56), Assert.Single(c.Observed));
    }

    [Fact]
    public void A_failed_kv_allocation_is_the_kv_buffer()
    {
        const string log = """
            print_info: arch             = llama
            ggml_backend_cuda_buffer_type_alloc_buffer: allocating 8192.00 MiB on device 1: cudaMalloc failed: out of memory
            llama_kv_cache: failed to allocate buffer for kv cache
            """;
        Assert.Equal("kv_buffer_mib.CUDA1", Assert.Single(VramFit.Validation.LlamaCppLogParser.Parse(log).Observed).Name);
    }
}
