namespace VramFit.Engines.Vllm;

/// <summary>
/// CUDA graphs vLLM captures after sizing the KV cache (gpu_model_runner.py <c>capture_model</c>, logged as
/// "Graph capturing finished in N secs, took X GiB"): which batch sizes, in which modes, and what they cost.
/// </summary>
public static class VllmCudaGraphs
{
    /// <summary>
    /// Driver-side memory per captured graph per decoder layer (graph exec objects, kernel node parameters,
    /// the private pool's segments). Not a vLLM constant: the mean of the logged captures in
    /// shared/validation (0.2 to 1 MiB per size × layer across 6 V0/V1 runs); expect ±60 % per case.
    /// </summary>
    public const long BytesPerGraphLayer = 384 * 1024;

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
    /// Graphs per size: V1 piecewise compilation captures one graph per size (the pieces between attention
    /// calls share it, each layer adding nodes); from 0.11 the default cudagraph_mode FULL_AND_PIECEWISE also
    /// captures full decode graphs for sizes up to max_num_seqs. V0 captures one full graph per size.
    /// </summary>
    public static long Bytes(VllmSettings s, int layers)
    {
        if (s.EnforceEager)
            return 0;
        var sizes = CaptureSizes(s);
        long graphs = sizes.Count;
        if (s.Version.V1 && s.Version.AtLeast(11))
            graphs += sizes.Count(x => x <= s.MaxNumSeqs);
        return graphs * layers * BytesPerGraphLayer;
    }
}
