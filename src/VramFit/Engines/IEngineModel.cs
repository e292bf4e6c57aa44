using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;

namespace VramFit.Engines;

/// <summary>
/// The workload asked of any engine, in engine-neutral terms. Each engine maps these onto its own settings
/// (context → llama.cpp <c>ctx_size</c>, vLLM <c>max_model_len</c>); an engine-native setting given in
/// <see cref="EstimateRequest.Settings"/> wins over the neutral value.
/// </summary>
public sealed record Workload
{
    /// <summary>Tokens per sequence (prompt + output); null = the engine's default.</summary>
    public long? ContextTokens { get; init; }

    /// <summary>Concurrent sequences; null = 1 (or the engine's default).</summary>
    public int? Batch { get; init; }

    /// <summary>Weight format to assume ("what if"); null = the checkpoint as it is.</summary>
    public Numerics.WeightFormat? WeightFormat { get; init; }

    /// <summary>KV cache dtype by name ("fp8", "q8_0", "bf16"); null = the engine's default.</summary>
    public string? KvCacheType { get; init; }

    /// <summary>Attention implementation ("eager", "sdpa", "flash"); null = the engine's default.</summary>
    public string? Attention { get; init; }
}

/// <summary>Everything an engine model needs for one estimate.</summary>
public sealed record EstimateRequest(ModelDescription Model, Deployment Deployment, Workload Workload, EngineSettings Settings);

/// <summary>
/// The seam between the model description and each real engine's allocation rules: one implementation
/// per engine (transformers, llama.cpp, vLLM, SGLang, TensorRT-LLM, TGI), each in its own folder.
/// </summary>
public interface IEngineModel
{
    /// <summary>Identifier as users type it ("transformers", "llama.cpp", "vllm").</summary>
    string Id { get; }

    /// <summary>The engine's settings this model understands, by the engine's own names.</summary>
    IReadOnlyCollection<string> SettingNames { get; }

    /// <summary>Estimates memory per device. Throws <see cref="Errors.VramFitException"/> for impossible requests.</summary>
    MemoryReport Estimate(EstimateRequest request);
}
