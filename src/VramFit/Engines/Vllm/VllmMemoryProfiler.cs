using VramFit.Engines.Serving;
using VramFit.Hardware;

namespace VramFit.Engines.Vllm;

/// <summary>What a vLLM release subtracts from its budget besides weights and the torch activation peak.</summary>
public enum VllmNonTorchCharge
{
    /// <summary>
    /// Nothing: up to 0.2.4 the profile used <c>torch.cuda.max_memory_allocated()</c> alone
    /// (vllm/worker/worker.py <c>profile_num_available_blocks</c>), so NCCL and the CUDA context were outside the budget.
    /// </summary>
    None,

    /// <summary>
    /// Every byte in use on the device, the CUDA context included: V0 0.2.5–0.3.0 took <c>total − free</c> after the
    /// profile run (PR #2031), V0 0.6.4 added <c>mem_get_info</c> used − torch allocated to the torch peak (PR #9352),
    /// and V1 before 0.9.1 did the same (v1/worker/gpu_worker.py, "NCCL operations, for example, can use a few GB").
    /// Memory of other processes on the GPU lands here too.
    /// </summary>
    DeviceWide,

    /// <summary>
    /// Only what grew after the worker's first snapshot, which is taken once the CUDA context exists: V0 0.3.1–0.6.3
    /// (<c>init_gpu_memory − free</c>, PR #2863), V0 from 0.6.5 (<c>memory_profiling</c> baseline, PR #10511) and V1 from
    /// 0.9.1 (PRs #18974 and #19312 reuse that baseline) — kernel modules, cuBLAS workspaces, NCCL and all-reduce buffers.
    /// </summary>
    GrowthSinceInit,
}

/// <summary>
/// The non-torch part of vLLM's profile by release: which rule the release's worker used and the bytes it charges per rank.
/// </summary>
public static class VllmMemoryProfiler
{
    /// <summary>The rule of <paramref name="version"/>; see <see cref="VllmNonTorchCharge"/> for the PRs that moved it.</summary>
    public static VllmNonTorchCharge ChargeOf(VllmVersion version) => version switch
    {
        { V1: true } when !version.AtLeast(9, 1) => VllmNonTorchCharge.DeviceWide,
        { V1: true } => VllmNonTorchCharge.GrowthSinceInit,
        _ when !version.AtLeast(2, 5) => VllmNonTorchCharge.None,
        _ when !version.AtLeast(3, 1) => VllmNonTorchCharge.DeviceWide,
        _ when !version.AtLeast(6, 4) => VllmNonTorchCharge.GrowthSinceInit,
        _ when !version.AtLeast(6, 5) => VllmNonTorchCharge.DeviceWide,
        _ => VllmNonTorchCharge.GrowthSinceInit,
    };

    /// <summary>
    /// Bytes charged per rank: kernel modules and cuBLAS handles, NCCL's channel buffers when TP &gt; 1, the custom
    /// all-reduce buffers from 0.3.0 (PR #2192, vllm/model_executor/parallel_utils/custom_all_reduce.py), and under
    /// <see cref="VllmNonTorchCharge.DeviceWide"/> the CUDA context as well.
    /// </summary>
    public static long NonTorchBytes(VllmVersion version, int tensorParallel, Accelerator gpu)
    {
        var charge = ChargeOf(version);
        if (charge == VllmNonTorchCharge.None)
            return 0;
        long bytes = CommunicationBuffers.KernelModulesBytes(gpu) + CommunicationBuffers.NcclBytes(tensorParallel, gpu);
        if (version.AtLeast(3, 0) && CommunicationBuffers.CustomAllReduce(tensorParallel, gpu))
            bytes += CommunicationBuffers.CustomAllReduceBytes;
        if (charge == VllmNonTorchCharge.DeviceWide)
            bytes += CommunicationBuffers.CudaContextBytes(gpu);
        return bytes;
    }
}
