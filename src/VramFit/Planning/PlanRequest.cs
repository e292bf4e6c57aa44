using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;

namespace VramFit.Planning;

/// <summary>What a plan optimizes for once every option fits.</summary>
public enum PlanGoal
{
    /// <summary>Most generated tokens per second over all GPUs.</summary>
    Throughput,

    /// <summary>Lowest time per output token (then time to first token).</summary>
    Latency,

    /// <summary>Fewest GPUs, then throughput.</summary>
    FewestGpus,

    /// <summary>Least quality risk, then throughput.</summary>
    Quality,
}

/// <summary>The question <c>vramfit plan</c> answers: this model, these GPUs, this workload — which configurations work?</summary>
public sealed record PlanRequest
{
    public required ModelDescription Model { get; init; }

    public required Accelerator Gpu { get; init; }

    public int GpusPerNode { get; init; } = 1;

    public int Nodes { get; init; } = 1;

    /// <summary>Host RAM available for offload (0 = unknown: offload is still offered, without a host check).</summary>
    public long HostMemoryBytes { get; init; }

    /// <summary>Tokens per sequence (prompt + output) every option must support.</summary>
    public long ContextTokens { get; init; } = 8192;

    /// <summary>Sequences served at once.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Prompt length for the TTFT figure (default: half the context).</summary>
    public long? PromptTokens { get; init; }

    public PlanGoal Goal { get; init; } = PlanGoal.Throughput;

    /// <summary>Engines to consider (ids); null = every registered engine.</summary>
    public IReadOnlyList<string>? Engines { get; init; }

    /// <summary>Memory kept free on every GPU, as a fraction of its capacity (llama.cpp's own fit keeps 1 GiB).</summary>
    public double MarginFraction { get; init; } = 0.05;

    /// <summary>Options returned (the Pareto front is always included).</summary>
    public int MaxOptions { get; init; } = 15;

    public int TotalGpus => GpusPerNode * Nodes;

    /// <summary>Checks ranges; throws <see cref="InvalidSettingException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Gpu.MemoryBytes <= 0)
            throw new InvalidSettingException("gpu", "the plan needs a GPU with a known memory size (--gpu h100-sxm or --gpu 24GiB)");
        if (GpusPerNode is < 1 or > 64)
            throw new InvalidSettingException("gpus", $"must be between 1 and 64 per node, got {GpusPerNode}");
        if (Nodes is < 1 or > 1024)
            throw new InvalidSettingException("nodes", $"must be between 1 and 1024, got {Nodes}");
        if (ContextTokens < 1 || ContextTokens > Units.TokenCount.Limit)
            throw new InvalidSettingException("context", $"{ContextTokens} is out of range");
        if (Concurrency is < 1 or > 1 << 16)
            throw new InvalidSettingException("concurrency", $"must be between 1 and 65536, got {Concurrency}");
        if (PromptTokens is { } p && (p < 1 || p > ContextTokens))
            throw new InvalidSettingException("prompt", $"must be between 1 and the context ({ContextTokens}), got {p}");
        if (MarginFraction is < 0 or >= 0.5)
            throw new InvalidSettingException("margin", $"must be in [0, 0.5), got {MarginFraction}");
        if (MaxOptions is < 1 or > 1000)
            throw new InvalidSettingException("max-options", $"must be between 1 and 1000, got {MaxOptions}");
    }
}
