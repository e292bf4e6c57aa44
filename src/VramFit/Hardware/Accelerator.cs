namespace VramFit.Hardware;

/// <summary>Vendor of an accelerator; decides the runtime overhead model (CUDA, ROCm, Metal …).</summary>
public enum AcceleratorVendor
{
    Nvidia,
    Amd,
    Apple,
    Intel,
    Other,
}

/// <summary>
/// One accelerator model as its vendor's datasheet states it. Throughputs are dense (no sparsity) peak
/// figures in TFLOPS/TOPS; 0 means "not supported in hardware".
/// </summary>
public sealed record Accelerator
{
    /// <summary>Catalog id ("h100-sxm", "rtx-4090").</summary>
    public required string Id { get; init; }

    /// <summary>Marketing name ("NVIDIA H100 SXM5 80GB").</summary>
    public required string Name { get; init; }

    public required AcceleratorVendor Vendor { get; init; }

    /// <summary>Memory in bytes usable by the device (for unified-memory Macs: the whole RAM).</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Peak memory bandwidth in GB/s (10⁹ bytes per second).</summary>
    public required double MemoryBandwidthGBps { get; init; }

    public double Fp16Tflops { get; init; }

    public double Bf16Tflops { get; init; }

    public double Fp8Tflops { get; init; }

    public double Int8Tops { get; init; }

    public double Fp4Tflops { get; init; }

    /// <summary>Device-to-device interconnect ("NVLink 4", "PCIe 4.0 x16", "Infinity Fabric").</summary>
    public string? Interconnect { get; init; }

    /// <summary>Total bidirectional device-to-device bandwidth in GB/s, as the datasheet states it.</summary>
    public double InterconnectGBps { get; init; }

    /// <summary>CUDA compute capability ("9.0") for NVIDIA parts.</summary>
    public string? ComputeCapability { get; init; }

    /// <summary><see cref="ComputeCapability"/> as a number (9.0), or null when it is unknown or not a number.</summary>
    public double? ComputeCapabilityNumber =>
        double.TryParse(ComputeCapability, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var cc) ? cc : null;

    /// <summary>Memory is shared with the CPU (Apple M-series).</summary>
    public bool UnifiedMemory { get; init; }

    /// <summary>Datasheet or spec page the values come from.</summary>
    public string? Source { get; init; }

    /// <summary>Other names under which drivers or logs report this part ("NVIDIA A100-SXM4-80GB").</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>
    /// For unified-memory parts: how much of <see cref="MemoryBytes"/> the GPU may wire by default
    /// (macOS's Metal <c>recommendedMaxWorkingSetSize</c>, about 75% of RAM); null = all of it.
    /// </summary>
    public long? GpuWorkingSetBytes { get; init; }

    /// <summary>Caveats worth showing next to the figures (unpublished rates, unified-memory limits).</summary>
    public string? Note { get; init; }

    /// <summary>
    /// Device memory as the CUDA runtime reports it (<c>cudaMemGetInfo</c> total, PyTorch's
    /// <c>total_memory</c>): the datasheet capacity less what the driver reserves. Engines that budget a fraction
    /// of "total GPU memory" (vLLM's <c>gpu_memory_utilization</c>) multiply this figure. Null where no published
    /// reading is catalogued; <see cref="RuntimeTotalBytes"/> then falls back to <see cref="MemoryBytes"/>.
    /// </summary>
    public long? CudaTotalBytes { get; init; }

    /// <summary>The total a CUDA program sees: <see cref="CudaTotalBytes"/> when known, else <see cref="MemoryBytes"/>.</summary>
    public long RuntimeTotalBytes => CudaTotalBytes ?? MemoryBytes;

    /// <summary>Memory an engine can count on before anything else runs: the working set for unified memory, else the whole device.</summary>
    public long DefaultUsableBytes => GpuWorkingSetBytes is long ws && ws < MemoryBytes ? ws : MemoryBytes;
}
