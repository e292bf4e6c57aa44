using VramFit.Errors;

namespace VramFit.Hardware;

/// <summary>
/// The accelerators a model is placed on: <see cref="GpuCount"/> identical devices per node over
/// <see cref="Nodes"/> nodes, optionally with measured free memory instead of the datasheet capacity.
/// </summary>
public sealed record Deployment
{
    public Deployment(Accelerator gpu, int gpuCount = 1, int nodes = 1, long? freeBytesPerGpu = null, long hostMemoryBytes = 0)
    {
        Gpu = gpu ?? throw new ArgumentNullException(nameof(gpu));
        if (gpuCount < 1 || gpuCount > 4096)
            throw new InvalidSettingException("gpus", $"must be between 1 and 4096, got {gpuCount}");
        if (nodes < 1 || nodes > 4096)
            throw new InvalidSettingException("nodes", $"must be between 1 and 4096, got {nodes}");
        if (freeBytesPerGpu is < 0)
            throw new InvalidSettingException("free memory", "must not be negative");
        if (hostMemoryBytes < 0)
            throw new InvalidSettingException("cpu-ram", "must not be negative");
        GpuCount = gpuCount;
        Nodes = nodes;
        FreeBytesPerGpu = freeBytesPerGpu;
        HostMemoryBytes = hostMemoryBytes;
    }

    public Accelerator Gpu { get; }

    /// <summary>Devices per node.</summary>
    public int GpuCount { get; }

    public int Nodes { get; }

    /// <summary>Free memory per device as detected (other processes accounted); null = the whole device.</summary>
    public long? FreeBytesPerGpu { get; }

    /// <summary>
    /// <see cref="FreeBytesPerGpu"/> was read by the engine itself after its own start-up (its CUDA context and
    /// communication buffers already out), as SGLang prints "avail mem" before loading; an engine that takes such a
    /// reading uses it as is instead of subtracting its start-up again.
    /// </summary>
    public bool FreeReadAfterEngineStart { get; init; }

    /// <summary>Host RAM available for offload; 0 = unknown.</summary>
    public long HostMemoryBytes { get; }

    public int TotalGpus => GpuCount * Nodes;

    /// <summary>
    /// Memory an engine may use per device: detected free memory, else the datasheet capacity (for
    /// unified-memory parts, the GPU's default working set).
    /// </summary>
    public long UsableBytesPerGpu => FreeBytesPerGpu ?? Gpu.DefaultUsableBytes;
}
