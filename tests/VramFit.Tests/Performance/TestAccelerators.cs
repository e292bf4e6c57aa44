using VramFit.Hardware;

namespace VramFit.Tests.Performance;

/// <summary>Accelerators with datasheet values (dense figures: the datasheets' sparsity numbers halved).</summary>
internal static class TestAccelerators
{
    /// <summary>NVIDIA H100 SXM5 80GB datasheet: 3.35 TB/s HBM3, BF16/FP16 989.4 TFLOPS, FP8 1,978.9 TFLOPS,
    /// INT8 1,978.9 TOPS, NVLink 900 GB/s.</summary>
    public static Accelerator H100Sxm { get; } = new()
    {
        Id = "h100-sxm",
        Name = "NVIDIA H100 SXM5 80GB",
        Vendor = AcceleratorVendor.Nvidia,
        MemoryBytes = 80L << 30,
        MemoryBandwidthGBps = 3350,
        Fp16Tflops = 989.4,
        Bf16Tflops = 989.4,
        Fp8Tflops = 1978.9,
        Int8Tops = 1978.9,
        InterconnectGBps = 900,
        ComputeCapability = "9.0",
    };

    /// <summary>NVIDIA A100 SXM4 80GB datasheet: 2,039 GB/s HBM2e, BF16/FP16 312 TFLOPS, INT8 624 TOPS, no FP8,
    /// NVLink 600 GB/s.</summary>
    public static Accelerator A100Sxm { get; } = new()
    {
        Id = "a100-sxm-80gb",
        Name = "NVIDIA A100 SXM4 80GB",
        Vendor = AcceleratorVendor.Nvidia,
        MemoryBytes = 80L << 30,
        MemoryBandwidthGBps = 2039,
        Fp16Tflops = 312,
        Bf16Tflops = 312,
        Int8Tops = 624,
        InterconnectGBps = 600,
        ComputeCapability = "8.0",
    };
}
