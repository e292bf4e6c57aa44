using VramFit.Engines;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Performance;
using VramFit.Planning;

namespace VramFit.Simulation;

/// <summary>The KV pool a serving engine would allocate, as the simulator's capacity (ServingCapacity of the engine model).</summary>
public static class EngineKvPool
{
    /// <summary>
    /// Tokens of KV cache <paramref name="engineId"/> allocates for <paramref name="model"/> on <paramref name="gpu"/>
    /// started with <paramref name="maxModelLen"/>; throws when the engine has no pool or would not start.
    /// </summary>
    public static long Tokens(string engineId, ModelDescription model, Accelerator gpu, WeightFormat? format, string? kvCache,
        ParallelLayout layout, long maxModelLen)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layout);
        var engine = EngineCatalog.Get(engineId);
        var candidate = new PlanCandidate
        {
            Engine = engine.Id,
            Format = format ?? model.CheckpointFormat ?? WeightFormat.DenseOf(model.Dtype),
            KvCache = kvCache is null or "bf16" or "fp16" or "auto" ? null : kvCache,
            TensorParallel = layout.TensorParallel,
            PipelineParallel = layout.PipelineParallel,
            GpusPerReplica = layout.DeviceCount,
        };
        var request = SearchSpace.Request(engine, candidate, new PlanRequest { Model = model, Gpu = gpu, GpusPerNode = layout.DeviceCount, ContextTokens = maxModelLen });
        var capacity = engine.Estimate(request).Capacity
            ?? throw new InvalidSettingException("engine", $"{engine.Id} has no KV pool to simulate; use vllm, sglang, tensorrt-llm or tgi, or give --kv-tokens");
        if (capacity.EngineError is { } error)
            throw new InvalidSettingException("max-model-len", $"{engine.Id} would not start: {error}");
        return capacity.KvCacheTokens;
    }
}
