namespace VramFit.Engines.Vllm;

/// <summary>
/// CUDA graphs vLLM captures after sizing the KV cache (gpu_model_runner.py <c>capture_model</c>, logged as
/// "Graph capturing finished in N secs, took X GiB"): which batch sizes, in which modes, and what they cost.
/// </summary>
public static class VllmCudaGraphs
{
    /// <summary>
    /// Driver-side memory per kernel node of a captured graph (graph exec objects, kernel node parameters, the
    /// private pool's segments). Not a vLLM constant: the logged captures in shared/validation and in 20 harvested
    /// V0/V1 logs ("Graph capturing finished in N secs, took X GiB") average about 384 KiB per captured size and
    /// decoder layer of <see cref="BaseKernelsPerLayer"/> kernels; expect ±50 % per case.
    /// </summary>
    public const long BytesPerKernelNode = 384 * 1024 / BaseKernelsPerLayer;

    /// <summary>
    /// Kernels one dense decoder layer launches in a captured step: fused add + RMSNorm twice, the qkv, o, gate_up and
    /// down GEMMs, rotary embedding, the KV-cache write, attention and SiLU-and-mul (vLLM's custom ops, llama.py).
    /// </summary>
    public const int BaseKernelsPerLayer = 10;

    /// <summary>TP &gt; 1: the all-reduce after the attention and after the MLP (RowParallelLinear, one each).</summary>
    public const int AllReduceKernelsPerLayer = 2;

    /// <summary>
    /// LoRA (<c>--enable-lora</c>): one punica shrink and one expand launch per wrapped linear — qkv, o, gate_up and
    /// down — each covering all of the linear's output slices (vllm/lora/ops/triton_ops lora_shrink / lora_expand take
    /// the slices' weights as one list), captured into the graphs.
    /// </summary>
    public const int LoraKernelsPerLayer = 2 * 4;

    /// <summary>Kernels per decoder layer in the captured graphs of this configuration.</summary>
    public static int KernelsPerLayer(VllmSettings s) =>
        BaseKernelsPerLayer + (s.Parallel.Tensor > 1 ? AllReduceKernelsPerLayer : 0) + (s.LoraRank > 0 ? LoraKernelsPerLayer : 0);

    /// <summary>
    /// Batch sizes captured. V1 (config/compilation.py): [1, 2, 4] + 8…248 step 8 + 256…max step 16 with
    /// max = 512 (from 0.11: min(2 × max_num_seqs, 512)), never above max_num_batched_tokens.
    /// V0 (worker/model_runner.py _BATCH_SIZES_TO_CAPTURE): [1, 2, 4] + 8…256 step 8, up to max_num_seqs
    /// padded to the next captured size.
    /// </summary>
    public static List<int> CaptureSizes(VllmSettings s)
    {
        var sizes = new List<int> { 1, 2, 4 };
        if (s.Version.V1)
        {
            long max = s.Version.AtLeast(11) ? Math.Min(2L * s.MaxNumSeqs, 512) : 512;
            max = Math.Min(max, s.MaxNumBatchedTokens);
            for (int i = 8; i < 256; i += 8)
                sizes.Add(i);
            for (int i = 256; i <= 512; i += 16)
                sizes.Add(i);
            sizes.RemoveAll(x => x > max);
            return sizes;
        }

        for (int i = 8; i <= 256; i += 8)
            sizes.Add(i);
        int padded = sizes.FirstOrDefault(x => x >= s.MaxNumSeqs, 256);
        sizes.RemoveAll(x => x > padded);
        return sizes;
    }

    /// <summary>
    /// Graphs captured: one per size. V1 from 0.11 captures its sizes twice with LoRA enabled, with and without
    /// active adapters (CompilationConfig.cudagraph_specialize_lora, default on); the full decode graphs of 0.11's
    /// FULL_AND_PIECEWISE mode add no measurable memory in the logged captures of 0.11–0.16, which share the pool.
    /// </summary>
    public static long GraphCount(VllmSettings s, int captureSizes)
    {
        if (s.EnforceEager)
            return 0;
        return s.Version.V1 && s.Version.AtLeast(11) && s.LoraRank > 0 ? 2L * captureSizes : captureSizes;
    }

    /// <summary><paramref name="graphs"/> (<see cref="GraphCount"/>) × layers × kernels per layer × <see cref="BytesPerKernelNode"/>.</summary>
    public static long Bytes(VllmSettings s, int layers, long graphs) => graphs * layers * KernelsPerLayer(s) * BytesPerKernelNode;
}
