using VramFit.Errors;

namespace VramFit.Performance;

/// <summary>How a replica of the model is split over accelerators, and how fast they talk to each other.</summary>
public sealed record ParallelLayout
{
    /// <summary>Tensor-parallel degree: every matrix split over this many devices, two all-reduces per layer.</summary>
    public int TensorParallel { get; init; } = 1;

    /// <summary>Pipeline-parallel degree: layers split into this many consecutive stages.</summary>
    public int PipelineParallel { get; init; } = 1;

    /// <summary>
    /// Per-direction link bandwidth between devices of one group, GB/s; null = half the accelerator's
    /// datasheet interconnect figure (datasheets quote the bidirectional total, e.g. 900 GB/s for H100 NVLink-4).
    /// </summary>
    public double? InterconnectGBps { get; init; }

    /// <summary>
    /// Micro-batches in flight through the pipeline. Null = one per stage, as vLLM runs one virtual engine per
    /// pipeline stage (vLLM 0.6+, <c>pipeline_parallel_size</c> virtual engines).
    /// </summary>
    public int? MicroBatches { get; init; }

    public int DeviceCount => TensorParallel * PipelineParallel;

    public static ParallelLayout Single { get; } = new();

    public void Validate()
    {
        if (TensorParallel is < 1 or > 1024)
            throw new InvalidSettingException("tensor-parallel", $"must be between 1 and 1024, got {TensorParallel}");
        if (PipelineParallel is < 1 or > 1024)
            throw new InvalidSettingException("pipeline-parallel", $"must be between 1 and 1024, got {PipelineParallel}");
        if (InterconnectGBps is { } bw && !(bw > 0))
            throw new InvalidSettingException("interconnect", $"bandwidth must be positive, got {bw} GB/s");
        if (MicroBatches is < 1)
            throw new InvalidSettingException("micro-batches", "must be at least 1");
    }
}

/// <summary>Where offloaded weights are used: copied to the GPU every step, or multiplied on the CPU in place.</summary>
public enum OffloadMode
{
    /// <summary>Weights cross PCIe every step and run on the GPU (vLLM <c>--cpu-offload-gb</c>; llama.cpp for
    /// large prefill batches, which copies host-resident weights to the GPU when the batch is ≥ 32 tokens).</summary>
    StreamOverPcie,

    /// <summary>Offloaded layers or experts run on the CPU at host memory bandwidth (llama.cpp <c>-ngl</c> below
    /// the layer count, <c>--n-cpu-moe</c>; KTransformers).</summary>
    ComputeOnCpu,
}

/// <summary>
/// Which share of the weights lives in host memory and how it is used. Fractions are of the weight bytes a
/// step would read: <see cref="LayerFraction"/> of every non-expert block weight and
/// <see cref="ExpertFraction"/> of routed-expert weights.
/// </summary>
public sealed record OffloadPlan
{
    public double LayerFraction { get; init; }

    public double ExpertFraction { get; init; }

    public OffloadMode Mode { get; init; } = OffloadMode.StreamOverPcie;

    /// <summary>Host-to-device bandwidth, GB/s. Default 25: PCIe 4.0 x16 is 32 GB/s per direction raw
    /// (PCI-SIG), ≈ 25 GB/s achieved by cudaMemcpy from pinned memory (CUDA bandwidthTest).</summary>
    public double PcieGBps { get; init; } = 25;

    /// <summary>Host memory bandwidth available to the CPU kernels, GB/s. Default 80: dual-channel DDR5-5600
    /// is 89.6 GB/s peak (JEDEC), ≈ 80 achievable; set it for server CPUs (8–12 channels).</summary>
    public double HostMemoryGBps { get; init; } = 80;

    /// <summary>CPU matmul throughput, TFLOPS (bounds CPU prefill). Default 1: a 16-core AVX-512 desktop
    /// part peaks near 2 TFLOPS fp32 (16 cores × 2 FMA units × 16 lanes × 2 × ~2 GHz); llama.cpp reaches about half.</summary>
    public double HostTflops { get; init; } = 1;

    public static OffloadPlan None { get; } = new();

    public bool IsActive => LayerFraction > 0 || ExpertFraction > 0;

    public void Validate()
    {
        if (!(LayerFraction >= 0 && LayerFraction <= 1) || !(ExpertFraction >= 0 && ExpertFraction <= 1))
            throw new InvalidSettingException("offload", "fractions must be between 0 and 1");
        if (!(PcieGBps > 0) || !(HostMemoryGBps > 0) || !(HostTflops > 0))
            throw new InvalidSettingException("offload", "PCIe bandwidth, host bandwidth and host TFLOPS must be positive");
    }
}
