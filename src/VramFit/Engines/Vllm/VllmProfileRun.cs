using VramFit.Engines.Serving;
using VramFit.Models;

namespace VramFit.Engines.Vllm;

/// <summary>
/// The torch activation peak vLLM measures in its profile run (<c>profile_run</c>: a dummy forward over
/// max_num_batched_tokens tokens split into min(max_num_seqs, tokens) requests, then a dummy sampler run
/// over the last token of each request). The peak is the larger of the forward pass and the sampler phase,
/// during which the forward's hidden states are still held.
/// </summary>
public static class VllmProfileRun
{
    /// <summary>Result of the profile run of one rank, itemised for the explanation.</summary>
    public readonly record struct Peak(long ForwardBytes, long SamplerBytes, long HiddenStatesBytes, long SampledRequests, double SamplerBytesPerLogit)
    {
        public long Bytes => Math.Max(ForwardBytes, HiddenStatesBytes + SamplerBytes);
    }

    /// <summary>
    /// Bytes per (request × vocabulary entry) of the dummy sampler, which asks for top-p 0.9 and top-k
    /// vocab − 1 (gpu_model_runner.py <c>_dummy_sampler_run</c>, V0 <c>profile_run</c> SamplingParams(top_p=0.99,
    /// top_k=vocab−1)).
    /// PyTorch path (V0 sampler.py, V1 topk_topp_sampler.py <c>apply_top_k_top_p</c>): logits in the model dtype
    /// (2) held by the runner, their fp32 copy (4), the sorted values (4) and int64 indices (8), and the segmented
    /// radix sort's scratch: the alternate key (4) and value (8) buffers and the int64 iota it sorts (8) = 38 B.
    /// FlashInfer path (V1 when FlashInfer is used, see <see cref="VllmSettings.FlashInferSampler"/>):
    /// model-dtype logits (2), fp32 logits (4), top-k-masked logits (4), softmax probabilities (4) = 14 B.
    /// </summary>
    public static double SamplerBytesPerLogit(bool flashInfer, int dtypeBytes) => flashInfer
        ? dtypeBytes + 4 + 4 + 4
        : dtypeBytes + 4 + 4 + 8 + 4 + 8 + 8;

    /// <summary>
    /// Profile-run peak of a rank of pipeline stage covering [<paramref name="firstLayer"/>, +<paramref name="layerCount"/>).
    /// The sampler runs on the last stage only, and under V0 only on the driver (TP rank 0), which gathers the logits.
    /// </summary>
    public static Peak Measure(ModelDescription model, VllmSettings settings, int dtypeBytes, int firstLayer, int layerCount, bool lastStage, bool driverRank)
    {
        long tokens = settings.MaxNumBatchedTokens;
        // V1 gpu_model_runner.py: VLLM_FUSED_MOE_CHUNK_SIZE (default 32768 tokens) bounds fused_moe's caches
        long forward = ForwardActivations.PeakBytes(model, tokens, settings.Parallel, dtypeBytes, firstLayer, layerCount, moeChunkTokens: 32768);
        if (!lastStage || (!settings.Version.V1 && !driverRank))
            return new Peak(forward, 0, 0, 0, 0);
        long requests = Math.Min(settings.MaxNumSeqs, tokens);
        double perLogit = SamplerBytesPerLogit(settings.FlashInferSampler, dtypeBytes);
        long sampler = (long)Math.Ceiling(requests * (double)model.VocabSize * perLogit);
        long hidden = tokens * model.HiddenSize * dtypeBytes;
        return new Peak(forward, sampler, hidden, requests, perLogit);
    }
}
