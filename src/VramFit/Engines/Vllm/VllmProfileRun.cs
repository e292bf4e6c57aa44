using VramFit.Engines.Serving;
using VramFit.Models;
using VramFit.Numerics;

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
    /// <param name="ForwardBytes">the forward pass's live set, bitsandbytes temporaries included</param>
    /// <param name="BitsandbytesBytes">the part of <paramref name="ForwardBytes"/> that bitsandbytes' bf16 matmul path adds</param>
    /// <param name="EncoderBytes">V1's dummy multimodal encoder pass, run before the forward (<see cref="EncoderPeakBytes"/>)</param>
    /// <param name="EncoderOutputBytes">its outputs, held in the encoder cache through the forward and sampler</param>
    public readonly record struct Peak(long ForwardBytes, long SamplerBytes, long HiddenStatesBytes, long SampledRequests, double SamplerBytesPerLogit, long BitsandbytesBytes = 0,
        long EncoderBytes = 0, long EncoderOutputBytes = 0)
    {
        public long Bytes => Math.Max(Math.Max(ForwardBytes, HiddenStatesBytes + SamplerBytes) + EncoderOutputBytes, EncoderBytes);
    }

    /// <summary>
    /// V1's profile run first encodes a dummy batch of the modality with the most tokens per item (gpu_model_runner.py
    /// <c>profile_run</c>: <c>_get_mm_dummy_batch</c>, <c>get_multimodal_embeddings</c>) and keeps the outputs in the
    /// encoder cache through the text forward. The batch holds max(1, min(budget ÷ tokens per image, max_num_seqs ×
    /// images per prompt)) images, the budget being max(max_num_batched_tokens, tokens per image) (encoder_budget.py,
    /// images per prompt = max_model_len ÷ tokens per image, at least 1). The ViT's live set at its MLP: the pixel
    /// values, the residual stream and its norm (patches × width), and this rank's share of the MLP intermediate
    /// (gate_up and the activated half when gated, fc1 and its activation otherwise; vLLM shards the vision linears
    /// over TP); at attention the rank's qkv, the rotated q and k and the attention output. The larger phase counts.
    /// </summary>
    public static (long Peak, long Output) EncoderPeakBytes(VisionEncoderShape v, long maxNumBatchedTokens, int maxNumSeqs, long maxModelLen, int tp, int dtypeBytes, int textHidden)
    {
        long perImage = Math.Max(1, v.MaxTokensPerImage);
        long budget = Math.Max(maxNumBatchedTokens, perImage);
        long perPrompt = Math.Max(1, maxModelLen / perImage);
        long images = Math.Max(1, Math.Min(budget / perImage, (long)maxNumSeqs * perPrompt));
        long tokens = images * perImage;
        long patches = tokens * v.PatchesPerToken;
        long d = v.Hidden, inter = (v.Intermediate + tp - 1) / tp, shard = (d + tp - 1) / tp;
        long stream = patches * (v.InputElementsPerPatch + 2 * d);
        long mlp = patches * (v.GatedMlp ? 3 * inter : 2 * inter);
        long attention = patches * (3 * shard + 2 * shard + shard);
        return ((stream + Math.Max(mlp, attention)) * dtypeBytes, tokens * textHidden * dtypeBytes);
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
    /// The sampler runs on the last stage only, and under V0 only on the driver (TP rank 0), which gathers the logits:
    /// this is the driver's peak; V0's other workers peak at <see cref="Peak.ForwardBytes"/>.
    /// </summary>
    public static Peak Measure(ModelDescription model, VllmSettings settings, int dtypeBytes, int firstLayer, int layerCount, bool lastStage)
    {
        long tokens = settings.MaxNumBatchedTokens;
        // V1 gpu_model_runner.py: VLLM_FUSED_MOE_CHUNK_SIZE (default 32768 tokens) bounds fused_moe's caches
        long forward = ForwardActivations.PeakBytes(model, tokens, settings.Parallel, dtypeBytes, firstLayer, layerCount, moeChunkTokens: 32768);
        long bnb = settings.Weights.Kind is WeightFormatKind.BnbNf4 or WeightFormatKind.BnbFp4
            ? BitsandbytesSurplusBytes(model, tokens, settings.Parallel.Tensor, convert: settings.Dtype != ScalarType.BF16, firstLayer, layerCount)
            : 0;
        forward += bnb;
        if (!lastStage)
            return new Peak(forward, 0, 0, 0, 0, bnb);
        long requests = Math.Min(settings.MaxNumSeqs, tokens);
        double perLogit = SamplerBytesPerLogit(settings.FlashInferSampler, dtypeBytes);
        long sampler = (long)Math.Ceiling(requests * (double)model.VocabSize * perLogit);
        long hidden = tokens * model.HiddenSize * dtypeBytes;
        var (encoder, encoderOutput) = settings.Version.V1 && firstLayer == 0 && model.VisionEncoder is { } vision
            ? EncoderPeakBytes(vision, tokens, settings.MaxNumSeqs, settings.MaxModelLen, settings.Parallel.Tensor, dtypeBytes, model.HiddenSize)
            : (0, 0);
        return new Peak(forward, sampler, hidden, requests, perLogit, bnb, encoder, encoderOutput);
    }

    /// <summary>
    /// What vLLM's bitsandbytes 4-bit linear layers hold beyond a plain matmul's output
    /// (quantization/bitsandbytes.py <c>_apply_4bit_weight</c> / <c>apply_bnb_4bit</c>): they compute in bfloat16 — a bf16
    /// copy of the input when the model runs in another dtype, a bf16 output buffer, then per output shard
    /// bitsandbytes' <c>matmul_4bit</c> dequantizes the shard's weight [out_i × in] and returns its product [T × out_i]
    /// before it is copied into the buffer, and <c>out.to(model dtype)</c> copies the buffer back when the dtypes differ.
    /// Per dense MLP (I = intermediate / TP): at down_proj, on top of the layer's plain live set, the input copy
    /// (T × I, other dtype only) and the larger of the shard phase (T × h result + h × I weight) and the conversion
    /// (T × h); at gate_up_proj, whose plain live set lacks the activation and down output ((I + h) × T), the input
    /// copy (T × h) and the larger of one shard (T × I + I × h) and the conversion (T × 2I). Elements are 2 bytes.
    /// </summary>
    /// <param name="convert">the model runs in a dtype other than bfloat16 (float16 on a T4)</param>
    public static long BitsandbytesSurplusBytes(ModelDescription model, long tokens, int tp, bool convert, int firstLayer, int layerCount)
    {
        long h = model.HiddenSize, worst = 0;
        for (int i = firstLayer; i < firstLayer + layerCount; i++)
        {
            var mlp = model.Layers[i].Mlp;
            if (mlp.Kind != MlpKind.Dense)
                continue;
            long inter = (mlp.FfnSize + tp - 1) / tp;
            long up = mlp.Gated ? 2 * inter : inter;
            long shardUp = inter;
            long down = (convert ? tokens * inter : 0) + Math.Max(tokens * h + h * inter, convert ? tokens * h : 0);
            long gateUp = (convert ? tokens * h : 0) + Math.Max(tokens * shardUp + shardUp * h, convert ? tokens * up : 0) - (inter + h) * tokens;
            worst = Math.Max(worst, Math.Max(down, gateUp));
        }

        return worst * 2;
    }
}
