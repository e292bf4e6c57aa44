using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.Transformers;

/// <summary>The memory of one device under transformers, in bytes, by item (no allocation to produce).</summary>
public readonly record struct TransformersDeviceMemory
{
    public long Weights { get; init; }

    public long KvCache { get; init; }

    public long RecurrentState { get; init; }

    /// <summary>Hidden state and residual copies alive through the whole forward (plus eager's 4-D mask).</summary>
    public long ResidualStream { get; init; }

    /// <summary>The largest per-layer transient: attention (with eager scores) or MLP intermediates.</summary>
    public long LayerPeak { get; init; }

    /// <summary>Whether <see cref="LayerPeak"/> is the attention stage (else the MLP stage).</summary>
    public bool LayerPeakIsAttention { get; init; }

    /// <summary>Logits of the prefill step (0 on devices without the output head).</summary>
    public long Logits { get; init; }

    /// <summary>DynamicCache growth: torch.cat allocates the grown K (or V) of one layer before freeing the old one.</summary>
    public long CacheGrowthCopy { get; init; }

    /// <summary>bitsandbytes dequantizes the weight of the current matmul to the compute dtype.</summary>
    public long DequantScratch { get; init; }

    public long CudaContext { get; init; }

    /// <summary>Peak activation memory: residual stream + the larger of the layer peak and the logits.</summary>
    public long Activations => ResidualStream + Math.Max(LayerPeak, Logits) + CacheGrowthCopy + DequantScratch;

    public long Total => Weights + KvCache + RecurrentState + Activations + CudaContext;
}

/// <summary>
/// The arithmetic of Hugging Face transformers (PyTorch) inference memory: weights in their stored format,
/// a DynamicCache (or StaticCache / QuantizedCache) of batch × context tokens, the activation peak of the
/// prefill forward, and the CUDA context. Pure functions over a <see cref="ModelProfile"/>; nothing here
/// allocates, because the planner calls it in its inner loop.
/// </summary>
public static class TransformersMemory
{
    /// <summary>
    /// CUDA context of a PyTorch process: "around 400MB if CUDA >= 11.7 is used and lazy module loading
    /// enabled (default in PyTorch)" — PyTorch maintainer, pytorch/pytorch issue 109888 (2023-09).
    /// </summary>
    public const long CudaContextBytes = 400L << 20;

    /// <summary>QuantizedCache keeps the newest tokens unquantized (transformers cache_utils QuantizedCache, residual_length=128).</summary>
    public const int QuantizedCacheResidualTokens = 128;

    /// <summary>QuantizedCache groups of 64 elements with a scale and a zero point each (q_group_size=64).</summary>
    public const int QuantizedCacheGroup = 64;

    /// <summary>Memory of the device holding blocks [<paramref name="firstLayer"/>, <paramref name="endLayer"/>).</summary>
    public static TransformersDeviceMemory Device(
        ModelProfile profile, in TransformersSettings s, int firstLayer, int endLayer, bool holdsEmbedding, bool holdsHead)
    {
        var model = profile.Model;
        long weights = 0;
        for (int i = firstLayer; i < endLayer; i++)
            weights += profile.LayerWeightBytes[i];
        if (holdsEmbedding)
            weights += profile.EmbeddingBytes;
        if (holdsHead)
            weights += profile.OutputHeadBytes + profile.OtherGlobalBytes;

        long ab = s.ActivationBytes;
        long tokens = (long)s.Batch * s.PromptTokens;
        long kv = 0, state = 0, layerPeak = 0, largestLayerCache = 0, largestMatrix = 0;
        bool peakIsAttention = false;
        for (int i = firstLayer; i < endLayer; i++)
        {
            var layer = model.Layers[i];
            if (layer.IsNextN)
                continue; // MTP blocks are loaded but never run by generate()
            long perToken = CachedElementsPerToken(layer);
            if (perToken > 0 && !layer.SharesKvCache)
            {
                long cached = CachedTokens(layer.Attention, s.ContextTokens);
                long layerKv = (long)s.Batch * CacheBytes(perToken, cached, s.KvBits, ab);
                kv += layerKv;
                largestLayerCache = Math.Max(largestLayerCache, layerKv / 2);
            }

            if (layer.OwnsRecurrentState)
                state += (long)s.Batch * RecurrentStateElements(layer.Attention.Recurrent!) * ab;

            long attention = AttentionStage(layer.Attention, s, tokens, ab);
            long mlp = MlpStage(layer.Mlp, tokens, ab, model.HiddenSize);
            if (attention > layerPeak || mlp > layerPeak)
            {
                peakIsAttention = attention >= mlp;
                layerPeak = Math.Max(attention, mlp);
            }
        }

        if (IsBitsAndBytes(profile.Format))
            largestMatrix = LargestQuantizedMatrix(profile, firstLayer, endLayer) * ab;

        long residual = 2 * tokens * model.HiddenSize * ab;
        if (s.Attention == TransformersAttention.Eager)
            residual += (long)s.Batch * s.PromptTokens * s.PromptTokens * ab; // 4-D causal mask [B, 1, q, kv], built once per forward

        long logits = 0;
        if (holdsHead)
        {
            long rows = s.Logits == TransformersLogits.LastToken ? s.Batch : tokens;
            // lm_head output in the compute dtype, then upcast to float32 (`logits.float()`)
            logits = rows * model.VocabSize * (ab + 4);
        }

        return new TransformersDeviceMemory
        {
            Weights = weights,
            KvCache = kv,
            RecurrentState = state,
            ResidualStream = residual,
            LayerPeak = layerPeak,
            LayerPeakIsAttention = peakIsAttention,
            Logits = logits,
            CacheGrowthCopy = s.StaticCache ? 0 : largestLayerCache,
            DequantScratch = largestMatrix,
            CudaContext = CudaContextBytes,
        };
    }

    /// <summary>
    /// Splits the blocks over <paramref name="gpus"/> devices the way accelerate's <c>device_map="auto"</c>
    /// ("balanced") does: contiguous blocks, each device up to an even share of the weights, the embedding on
    /// the first device and the head on the last. Writes the first block of each device into
    /// <paramref name="starts"/> (length gpus + 1; the last entry is the block count).
    /// </summary>
    public static void Place(ModelProfile profile, int gpus, Span<int> starts)
    {
        int n = profile.LayerWeightBytes.Length;
        if (starts.Length != gpus + 1)
            throw new ArgumentException("starts must have gpus + 1 entries", nameof(starts));
        long total = profile.TotalWeightBytes;
        long share = (total + gpus - 1) / gpus;
        long used = profile.EmbeddingBytes;
        int device = 0;
        starts[0] = 0;
        for (int i = 0; i < n; i++)
        {
            long b = profile.LayerWeightBytes[i];
            if (device < gpus - 1 && used + b > share && used > 0 && n - i >= gpus - device - 1)
            {
                device++;
                starts[device] = i;
                used = 0;
            }

            used += b;
        }

        for (int d = device + 1; d <= gpus; d++)
            starts[d] = n;
    }

    /// <summary>
    /// Elements cached per token by one layer in transformers: kv_heads × (d_k + d_v) for standard attention;
    /// MLA layers cache the decompressed K (heads × (nope + rope)) and V (heads × v_head_dim) as in
    /// modeling_deepseek_v3 — transformers does not keep the latent.
    /// </summary>
    public static long CachedElementsPerToken(LayerSpec layer)
    {
        var a = layer.Attention;
        return a.Kind switch
        {
            AttentionKind.Full or AttentionKind.SlidingWindow => a.KeyElementsPerToken + a.ValueElementsPerToken,
            AttentionKind.Mla => (long)a.HeadCount * (a.Mla!.QkNopHeadDim + a.Mla.QkRopeHeadDim + a.Mla.VHeadDim),
            _ => 0,
        };
    }

    /// <summary>
    /// Tokens a layer keeps: the whole context, or for sliding-window layers only the window
    /// (transformers ≥ 4.56 DynamicSlidingWindowLayer / SlidingWindowLayer keep the last sliding_window tokens).
    /// </summary>
    public static long CachedTokens(AttentionSpec attention, long context) =>
        attention.Kind == AttentionKind.SlidingWindow ? Math.Min(context, attention.SlidingWindow) : context;

    /// <summary>Bytes of <paramref name="tokens"/> tokens of one layer's cache of <paramref name="elementsPerToken"/>.</summary>
    public static long CacheBytes(long elementsPerToken, long tokens, int kvBits, long activationBytes)
    {
        if (kvBits >= 16)
            return elementsPerToken * tokens * (kvBits / 8);
        long residual = Math.Min(tokens, QuantizedCacheResidualTokens);
        long quantized = tokens - residual;
        long elements = elementsPerToken * quantized;
        long packed = (elements * kvBits + 7) / 8;
        long groups = (elements + QuantizedCacheGroup - 1) / QuantizedCacheGroup;
        return packed + groups * 2 * activationBytes + elementsPerToken * residual * activationBytes;
    }

    /// <summary>
    /// transformers' Mamba cache holds the whole conv window (conv_kernel, not conv_kernel − 1) and the
    /// SSM state per sequence (MambaCache / HybridMambaAttentionDynamicCache).
    /// </summary>
    public static long RecurrentStateElements(RecurrentSpec r) => r.Kind switch
    {
        RecurrentKind.Mamba => (long)r.ConvKernel * r.InnerSize + r.SsmStateElements,
        RecurrentKind.Mamba2 => (long)r.ConvKernel * (r.InnerSize + 2L * r.GroupCount * r.StateSize) + r.SsmStateElements,
        _ => r.ConvStateElements + r.SsmStateElements,
    };

    private static long AttentionStage(AttentionSpec a, in TransformersSettings s, long tokens, long ab)
    {
        long q = (long)s.Batch * s.PromptTokens;
        switch (a.Kind)
        {
            case AttentionKind.Full or AttentionKind.SlidingWindow:
            {
                long projections = tokens * ((long)a.HeadCount * a.KeyHeadDim + a.KeyElementsPerToken + a.ValueElementsPerToken
                    + (long)a.HeadCount * a.ValueHeadDim) * ab;
                return projections + Scores(a.HeadCount, a.KeyHeadDim + a.ValueHeadDim, a.KvHeadCount, s, tokens, ab);
            }

            case AttentionKind.Mla:
            {
                var m = a.Mla!;
                long qk = m.QkNopHeadDim + m.QkRopeHeadDim;
                long projections = tokens * ((long)a.HeadCount * qk * 2 + (long)a.HeadCount * m.VHeadDim * 2 + m.LatentElementsPerToken) * ab;
                return projections + Scores(a.HeadCount, 0, a.HeadCount, s, tokens, ab);
            }

            case AttentionKind.Recurrent:
                // in_proj output (x and z), conv output and the scan output: about four inner-width tensors
                return 4 * tokens * a.Recurrent!.InnerSize * ab;
            default:
                return 0;
        }

        static long Scores(int heads, long kvDimsPerHead, int kvHeads, in TransformersSettings s, long tokens, long ab)
        {
            if (s.Attention != TransformersAttention.Eager)
                return 0; // sdpa / flash kernels tile the scores in on-chip memory
            long scores = (long)s.Batch * heads * s.PromptTokens * s.PromptTokens;
            // eager_attention_forward: QKᵀ in the compute dtype, softmax(dtype=float32), then .to(dtype):
            // three score tensors alive at once (2 + 4 + 2 bytes per element in bf16).
            long scoreBytes = scores * (ab + 4 + ab);
            // repeat_kv expands GQA keys and values to every query head before the matmul
            long repeated = kvHeads < heads ? tokens * heads * kvDimsPerHead * ab : 0;
            return scoreBytes + repeated;
        }
    }

    private static long MlpStage(MlpSpec f, long tokens, long ab, int hidden)
    {
        switch (f.Kind)
        {
            case MlpKind.Dense:
                // gated: act(gate(x)), up(x) and their product; plain: up(x) and act(up(x))
                return tokens * f.FfnSize * (f.Gated ? 3 : 2) * ab;
            case MlpKind.MoE:
            {
                long router = tokens * f.ExpertCount * 4;              // router logits softmaxed in float32
                long routed = tokens * f.ActiveExpertCount;            // token-expert pairs
                long perExpert = (routed + f.ExpertCount - 1) / f.ExpertCount; // expected tokens of one expert
                long expert = perExpert * f.ExpertFfnSize * (f.Gated ? 3 : 2) * ab;
                long shared = f.SharedExpertCount > 0 ? tokens * (long)f.SharedExpertFfnSize * f.SharedExpertCount * 3 * ab : 0;
                long accumulator = tokens * hidden * ab;               // final_hidden_states index_add_ target
                return router + expert + shared + accumulator;
            }

            default:
                return 0;
        }
    }

    private static bool IsBitsAndBytes(WeightFormat f) =>
        f.Kind is WeightFormatKind.BnbNf4 or WeightFormatKind.BnbFp4 or WeightFormatKind.BnbInt8;

    private static long LargestQuantizedMatrix(ModelProfile profile, int firstLayer, int endLayer)
    {
        long largest = 0;
        for (int i = firstLayer; i < endLayer; i++)
            largest = Math.Max(largest, profile.LayerLargestPackedMatrix[i]);
        return largest;
    }
}
