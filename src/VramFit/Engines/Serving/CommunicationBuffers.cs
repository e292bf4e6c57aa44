using VramFit.Hardware;

namespace VramFit.Engines.Serving;

/// <summary>
/// Device memory that no tensor owns: what a profile run sees as "non-torch" growth (kernel modules,
/// cuBLAS/cuBLASLt handles, NCCL's channel buffers once TP &gt; 1) and the CUDA context that exists before.
/// </summary>
public static class CommunicationBuffers
{
    /// <summary>NCCL's per-channel receive buffers for the Simple (NCCL_BUFFSIZE = 4 MiB), LL128 (≈4.5 MiB)
    /// and LL (≈0.5 MiB) protocols (NCCL src/include/device.h defaults), allocated per ring and per tree peer.</summary>
    public const long NcclBytesPerChannelPeer = 9 * (1L << 20);

    /// <summary>vLLM custom all-reduce IPC buffers: 8 MiB data buffer and signal/metadata per rank
    /// (vllm/distributed/device_communicators/custom_all_reduce.py, max_size = 8192 × 1024).</summary>
    public const long CustomAllReduceBytes = 16 * (1L << 20);

    /// <summary>
    /// Non-torch growth of one rank at TP 1 on Hopper and later: lazily loaded kernel modules (FlashAttention 3,
    /// the sm90a CUTLASS GEMMs), cuBLASLt handles. ≈0.15 GiB in the llm-d capacity planner's H100 measurement and
    /// 0.13–0.14 GiB in four H100 runs of vLLM 0.11 ("non_torch_memory takes …").
    /// </summary>
    public const long HopperKernelModulesBytes = 150 * (1L << 20);

    /// <summary>
    /// The same growth on Ampere, Ada and Turing: 0.01–0.09 GiB (median 0.05) in the ten TP-1 V0 runs of vLLM
    /// 0.7–0.10 on T4, RTX 2060/4090 and A100 whose logs print "non_torch_memory takes" — smaller modules without
    /// the sm90a kernels.
    /// </summary>
    public const long KernelModulesBytesBeforeHopper = 50 * (1L << 20);

    /// <summary>Kernel modules and handles of one rank on <paramref name="gpu"/>.</summary>
    public static long KernelModulesBytes(Accelerator gpu) => BeforeHopper(gpu) ? KernelModulesBytesBeforeHopper : HopperKernelModulesBytes;

    /// <summary>Compute capability below 9.0; a GPU of unknown capability counts as Hopper (the larger figures).</summary>
    private static bool BeforeHopper(Accelerator gpu) => gpu.ComputeCapabilityNumber < 9.0;

    /// <summary>
    /// CUDA context of one process on Hopper and later with lazy module loading (CUDA 12: ≈500 MiB on H100 as
    /// nvidia-smi shows for an idle PyTorch process); engines that budget against the whole device (SGLang, TGI,
    /// TensorRT-LLM) pay it out of that budget.
    /// </summary>
    public const long HopperCudaContextBytes = 500 * (1L << 20);

    /// <summary>
    /// The same context on Ampere, Ada and Turing: ≈300 MiB (nvidia-smi of an idle PyTorch process on RTX 3090/4090
    /// and T4; vLLM 0.6.4 on an RTX 3090, whose profile charges everything in use on the device, logs
    /// non_torch_memory 0.35 GiB = context + kernel modules).
    /// </summary>
    public const long CudaContextBytesBeforeHopper = 300 * (1L << 20);

    /// <summary>The CUDA context of one process on <paramref name="gpu"/>.</summary>
    public static long CudaContextBytes(Accelerator gpu) => BeforeHopper(gpu) ? CudaContextBytesBeforeHopper : HopperCudaContextBytes;

    /// <summary>
    /// NCCL buffers of one rank in a TP group of <paramref name="ranks"/>: channels × (ring + tree peers) ×
    /// <see cref="NcclBytesPerChannelPeer"/>. NCCL opens up to 32 channels over NVSwitch on Hopper and later,
    /// 16 over NVLink on older parts and about 4 over PCIe (NCCL topology search, NCCL_MAX_NCHANNELS).
    /// </summary>
    public static long NcclBytes(int ranks, Accelerator gpu)
    {
        if (ranks <= 1)
            return 0;
        int channels = Channels(gpu);
        return channels * 2L * NcclBytesPerChannelPeer;
    }

    /// <summary>
    /// Whether the custom all-reduce (and its <see cref="CustomAllReduceBytes"/>) is set up for a TP group of
    /// <paramref name="ranks"/>: only for 2, 4, 6 or 8 ranks, and beyond two ranks only when every pair is linked by
    /// NVLink switch or mesh — an NVLink bridge joins pairs only ("Custom allreduce is disabled because it's not
    /// supported on more than two PCIe-only GPUs";
    /// vLLM and SGLang custom_all_reduce.py <c>_SUPPORTED_WORLD_SIZES</c>, <c>full_nvlink</c> check).
    /// </summary>
    public static bool CustomAllReduce(int ranks, Accelerator gpu) =>
        ranks is 2 or 4 or 6 or 8 && (ranks == 2 || (HasNvLink(gpu) && !(gpu.Interconnect ?? "").Contains("bridge", StringComparison.OrdinalIgnoreCase)));

    private static bool HasNvLink(Accelerator gpu) => (gpu.Interconnect ?? "").Contains("NVLink", StringComparison.OrdinalIgnoreCase);

    private static int Channels(Accelerator gpu)
    {
        if (!HasNvLink(gpu))
            return 4;
        return gpu.ComputeCapabilityNumber >= 9.0 ? 32 : 16;
    }
}
