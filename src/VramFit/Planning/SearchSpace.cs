using VramFit.Engines;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Planning;

/// <summary>
/// The configurations worth trying for each engine: the weight formats and KV-cache types it supports, and its
/// ways of spreading a model over GPUs. Which engine supports what (and under which option name) is engine
/// knowledge kept here, in one table, with the engine models doing the arithmetic.
/// </summary>
public static class SearchSpace
{
    /// <summary>Weight formats each engine can load (by the names <see cref="WeightFormat.Parse"/> accepts).</summary>
    private static readonly Dictionary<string, string[]> Formats = new(StringComparer.Ordinal)
    {
        // transformers: bf16, bitsandbytes (LLM.int8, NF4) and pre-quantized GPTQ/AWQ checkpoints
        ["transformers"] = ["bf16", "llm-int8", "nf4-dq", "gptq-int4", "awq"],
        // vLLM quantization methods: fp8, compressed-tensors W8A8, GPTQ/AWQ (Marlin), bitsandbytes (docs "Supported Hardware")
        ["vllm"] = ["bf16", "fp8", "w8a8", "gptq-int4", "awq", "nf4"],
        ["sglang"] = ["bf16", "fp8", "w8a8", "gptq-int4", "awq"],
        // TensorRT-LLM quantization modes: FP8, INT8 SmoothQuant, INT8/INT4 weight-only, INT4 AWQ
        ["tensorrt-llm"] = ["bf16", "fp8", "w8a8", "int8", "awq"],
        // TGI --quantize: fp8, gptq, awq, bitsandbytes-nf4, eetq (int8)
        ["tgi"] = ["bf16", "fp8", "gptq-int4", "awq", "nf4", "int8"],
        // GGUF types people publish (llama.cpp quantize presets)
        ["llama.cpp"] = ["q8_0", "q6_k", "q5_k", "q4_k", "iq4_xs", "q3_k", "q2_k"],
    };

    /// <summary>KV-cache types each engine offers (null = its 16-bit default).</summary>
    private static readonly Dictionary<string, string?[]> KvTypes = new(StringComparer.Ordinal)
    {
        ["transformers"] = [null, "int4"],
        ["vllm"] = [null, "fp8"],
        ["sglang"] = [null, "fp8"],
        ["tensorrt-llm"] = [null, "fp8"],
        ["tgi"] = [null, "fp8"],
        ["llama.cpp"] = ["f16", "q8_0", "q4_0"],
    };

    private static readonly string[] TensorParallelNames = ["tensor_parallel_size", "tp_size", "tp", "num_shard"];
    private static readonly string[] PipelineParallelNames = ["pipeline_parallel_size", "pp_size", "pp"];

    /// <summary>Engines the planner knows how to configure.</summary>
    public static IReadOnlyCollection<string> Engines => Formats.Keys;

    /// <summary>Every candidate for <paramref name="engine"/> on the request's hardware.</summary>
    public static IEnumerable<PlanCandidate> Candidates(IEngineModel engine, PlanRequest request)
    {
        if (!Formats.TryGetValue(engine.Id, out var formatNames))
            yield break;
        var model = request.Model;
        var formats = formatNames.Select(f => WeightFormat.Parse(f, model.Dtype)).ToList();
        if (model.CheckpointFormat is { } published && engine.Id != "llama.cpp" && !formats.Contains(published))
            formats.Insert(0, published);
        if (engine.Id == "llama.cpp" && model.Checkpoint?.Format == CheckpointFormat.Gguf)
            formats = [model.CheckpointFormat ?? formats[0]]; // a GGUF file is what it is
        // fused attention on and off where the engine lets users choose (serving engines always fuse)
        bool[] flash = engine.Id is "llama.cpp" or "transformers" ? [true, false] : [true];
        foreach (var format in formats)
            foreach (var kv in KvTypes[engine.Id])
                foreach (var fa in flash)
                    foreach (var layout in Layouts(engine, request))
                        yield return layout with { Engine = engine.Id, Format = format, KvCache = kv, FlashAttention = fa };
    }

    private static IEnumerable<PlanCandidate> Layouts(IEngineModel engine, PlanRequest request)
    {
        var template = new PlanCandidate { Engine = engine.Id, Format = WeightFormat.DenseOf(ScalarType.BF16) };
        switch (engine.Id)
        {
            case "transformers" or "llama.cpp":
                // one process over the GPUs of one node (device_map="auto"; llama.cpp --split-mode layer)
                for (int g = 1; g <= request.GpusPerNode; g *= 2)
                    yield return template with { GpusPerReplica = g };
                if (!IsPowerOfTwo(request.GpusPerNode))
                    yield return template with { GpusPerReplica = request.GpusPerNode };
                break;
            default:
                int heads = AttentionHeads(request.Model);
                bool moe = request.Model.IsMoE;
                for (int tp = 1; tp <= request.GpusPerNode; tp *= 2)
                {
                    if (heads > 0 && heads % tp != 0)
                        continue; // vLLM/SGLang/TRT-LLM require heads divisible by the TP degree
                    foreach (int pp in request.Nodes > 1 ? new[] { 1, request.Nodes } : [1])
                    {
                        if (pp > 1 && !engine.SettingNames.Any(PipelineParallelNames.Contains))
                            continue;
                        if (tp > 1 && !engine.SettingNames.Any(TensorParallelNames.Contains))
                            continue;
                        yield return template with { TensorParallel = tp, PipelineParallel = pp, GpusPerReplica = tp * pp };
                        if (moe && tp > 1 && engine.SettingNames.Contains("enable_expert_parallel"))
                            yield return template with { TensorParallel = tp, PipelineParallel = pp, GpusPerReplica = tp * pp, ExpertParallel = true };
                    }
                }

                break;
        }
    }

    /// <summary>The engine request for <paramref name="candidate"/>: neutral workload plus the engine's own option names.</summary>
    public static EstimateRequest Request(IEngineModel engine, PlanCandidate candidate, PlanRequest request)
    {
        var settings = new List<KeyValuePair<string, string>>();
        void Set(string name, string value)
        {
            if (engine.SettingNames.Contains(name))
                settings.Add(new(name, value));
        }

        void SetFirst(string[] names, string value)
        {
            var name = names.FirstOrDefault(engine.SettingNames.Contains);
            if (name is not null)
                settings.Add(new(name, value));
        }

        if (candidate.TensorParallel > 1)
            SetFirst(TensorParallelNames, Text(candidate.TensorParallel));
        if (candidate.PipelineParallel > 1)
            SetFirst(PipelineParallelNames, Text(candidate.PipelineParallel));
        if (candidate.ExpertParallel)
            Set("enable_expert_parallel", "true");
        if (engine.Id == "llama.cpp")
        {
            Set("flash_attn", candidate.FlashAttention ? "true" : "false");
            if (candidate.KvCache is { } kv)
            {
                Set("cache_type_k", kv);
                Set("cache_type_v", kv);
            }

            // the neutral workload's batch is llama.cpp's --parallel; said explicitly so auto-fit's probes keep it
            Set("parallel", Text(request.Concurrency));
            if (candidate.GpuLayers is { } ngl)
                Set("n_gpu_layers", Text(ngl));
            if (candidate.CpuMoeLayers > 0)
                Set("n_cpu_moe", Text(candidate.CpuMoeLayers));
        }

        int gpus = candidate.GpusPerReplica;
        int perNode = Math.Min(gpus, request.GpusPerNode);
        int nodes = (gpus + perNode - 1) / perNode;
        var deployment = new Deployment(request.Gpu, perNode, nodes, hostMemoryBytes: request.HostMemoryBytes);
        var workload = new Workload
        {
            ContextTokens = request.ContextTokens,
            Batch = request.Concurrency,
            WeightFormat = candidate.Format,
            KvCacheType = engine.Id == "llama.cpp" ? null : candidate.KvCache,
            Attention = engine.Id == "transformers" ? (candidate.FlashAttention ? "sdpa" : "eager") : null,
        };
        return new EstimateRequest(request.Model, deployment, workload, new EngineSettings(settings));
    }

    private static int AttentionHeads(ModelDescription model) =>
        model.Layers.Select(l => l.Attention.HeadCount).FirstOrDefault(h => h > 0);

    private static bool IsPowerOfTwo(int n) => (n & (n - 1)) == 0;

    private static string Text(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
