using VramFit.Numerics;

namespace VramFit.Planning;

/// <summary>
/// One point of the search space: an engine with a weight format, a KV-cache type, parallel degrees and
/// (llama.cpp) how many layers stay on the GPU.
/// </summary>
public sealed record PlanCandidate
{
    public required string Engine { get; init; }

    public required WeightFormat Format { get; init; }

    /// <summary>KV cache type in the engine's spelling; null = the engine's default (16-bit).</summary>
    public string? KvCache { get; init; }

    public int TensorParallel { get; init; } = 1;

    public int PipelineParallel { get; init; } = 1;

    /// <summary>MoE experts spread over the tensor-parallel ranks (vLLM --enable-expert-parallel).</summary>
    public bool ExpertParallel { get; init; }

    /// <summary>GPUs one replica uses (device_map / llama.cpp split count / TP × PP).</summary>
    public int GpusPerReplica { get; init; } = 1;

    /// <summary>Fused attention kernels (llama.cpp --flash-attn, transformers sdpa); off materializes the scores.
    /// Serving engines always use theirs.</summary>
    public bool FlashAttention { get; init; } = true;

    /// <summary>llama.cpp: layers kept on the GPUs (null = all).</summary>
    public int? GpuLayers { get; init; }

    /// <summary>llama.cpp: MoE blocks whose experts stay in host memory (--n-cpu-moe).</summary>
    public int CpuMoeLayers { get; init; }

    public string Describe()
    {
        var parts = new List<string> { Engine, Format.Name };
        if (KvCache is not null)
            parts.Add("KV " + KvCache);
        if (!FlashAttention)
            parts.Add(Engine == "transformers" ? "eager attention" : "no flash-attn");
        if (TensorParallel > 1)
            parts.Add($"TP{TensorParallel}");
        if (PipelineParallel > 1)
            parts.Add($"PP{PipelineParallel}");
        if (ExpertParallel)
            parts.Add("EP");
        if (Engine is "transformers" or "llama.cpp" && GpusPerReplica > 1)
            parts.Add($"{GpusPerReplica} GPUs");
        if (GpuLayers is { } n)
            parts.Add($"{n} layers on GPU");
        if (CpuMoeLayers > 0)
            parts.Add($"experts of {CpuMoeLayers} layers on CPU");
        return string.Join(", ", parts);
    }
}
