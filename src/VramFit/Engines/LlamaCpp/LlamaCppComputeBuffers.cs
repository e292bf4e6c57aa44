using VramFit.Models;

namespace VramFit.Engines.LlamaCpp;

/// <summary>The live-set terms of one compute buffer, in bytes.</summary>
internal readonly record struct LlamaCppComputeTerms(long Attention, long Ffn, long Output, long WeightCopy, long InputCopies, long Inputs = 0);

/// <summary>Compute buffer sizes per device (index + 1; 0 = the host compute buffer) and the terms behind them.</summary>
/// <param name="Simulated">For a single-backend run: the allocation ggml-alloc makes for the reserve graph (the
/// host buffer of a CPU-only run), with the node where it peaks and the tensors alive then.</param>
internal sealed record LlamaCppCompute(long[] BytesPerDevice, LlamaCppComputeTerms[] Terms, GgmlAllocation? Simulated = null);

/// <summary>
/// Compute buffers as ggml-alloc sizes them for the worst-case graph llama.cpp reserves at context creation
/// (n_tokens = n_ubatch, every token an output, n_kv = the whole cache): tensors are freed after their last use,
/// so a buffer holds the largest set of tensors alive at once. The phases whose live tensors dominate:
/// <list type="bullet">
/// <item>output: f32 logits n_ubatch × n_vocab + the normalized hidden state (on the output layer's device);</item>
/// <item>attention without flash attention: f32 KQ scores n_ubatch × n_kv × n_head (soft_max runs in place) plus Q;</item>
/// <item>feed-forward: the gate and up activations n_ubatch × n_ff (MoE: × n_expert_used, plus router logits);</item>
/// <item>host: the graph inputs the CPU backend fills (KQ masks f32 n_kv × n_ubatch per cache, the token embeddings
/// row-gathered on the CPU), times the pipeline-parallel copies (GGML_SCHED_MAX_COPIES = 4) with several GPUs;</item>
/// <item>op offload: a weight in host memory multiplied on the GPU (n_ubatch ≥ 32) is copied into that GPU's buffer.</item>
/// </list>
/// </summary>
internal static class LlamaCppComputeBuffers
{
    private const long F32 = 4;

    public static LlamaCppCompute Estimate(ModelDescription model, LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement p,
        List<LlamaCppCache> caches, Checkpoint tensors, bool pipelineParallel)
    {
        int devices = p.Devices;
        if (devices == 0 && !v.IkLlama && v.Build >= LlamaCppReserveGraphCache.FirstBuild && LlamaCppReserveGraph.Supports(model))
        {
            // one backend: the whole reserve graph is one split, so its buffer is exactly what ggml-alloc measures
            var allocation = LlamaCppReserveGraphCache.Allocate(model, ReserveShape(model, s, caches));
            return new LlamaCppCompute([allocation.BufferBytes], [default], allocation);
        }

        var bytes = new long[devices + 1];
        var terms = new LlamaCppComputeTerms[devices + 1];
        long ub = Math.Min(s.UbatchSize, caches.Count > 0 ? caches[0].Cells : s.UbatchSize);
        long h = model.HiddenSize;
        long baseLive = ub * h * F32 * 2;      // residual stream + normalized input of the current block

        // op offload (ggml-backend sched, n_ubatch ≥ 32): a product whose weight sits in host memory runs on the
        // first GPU, which copies the weight into its compute buffer, and the ops around it follow it there; the
        // largest such weight bounds the copy (ik_llama.cpp's fused MoE up+gate kernel holds two expert weights).
        // The input layer (token/position embeddings) is a row gather and never offloaded.
        bool offload = devices > 0 && s.OpOffload && ub >= 32;
        long hostMatrix = 0;
        if (offload)
        {
            var table = LlamaCppTensorTable.For(tensors, model.Layers.Length);
            if (p.HasRegexOverrides)
            {
                foreach (var t in tensors.Tensors)
                    if (p.TensorDevice(t.Name, t.Layer) < 0 && !LlamaCppTensorTable.IsInputLayer(t.Name) && t.Elements > h)
                        hostMatrix = Math.Max(hostMatrix, t.Bytes * (s.FusedMoe && t.Name.Contains("_exps", StringComparison.Ordinal) ? 2 : 1));
            }
            else
            {
                for (int il = 0; il < model.Layers.Length; il++)
                {
                    if (p.LayerDevice(il) < 0)
                        hostMatrix = Math.Max(hostMatrix, table.LargestMatrix[il]);
                    if (p.ExpertsOnHost(il))
                        hostMatrix = Math.Max(hostMatrix, table.LargestExpert[il] * (s.FusedMoe ? 2 : 1));
                }

                if (p.OutputDevice < 0)
                    hostMatrix = Math.Max(hostMatrix, table.LargestOutputMatrix);
            }
        }

        long maskBytes = MaskBytes(caches, ub, model, v, s);
        // the mask every layer reads lives on each device from its first layer to its last: the f32 mask (its
        // device copy) without flash attention, its f16 cast with it (llm_graph_input_attn: kq_mask_cnv; the f32
        // input is freed after the cast) — checked against real llama.cpp on CPU (Differential tests)
        bool f16Input = v.IkLlama && s.FlashAttention && v.Build >= 3900;
        long persistent = s.FlashAttention && !f16Input ? maskBytes / 2 : maskBytes;
        var attention = new long[devices + 1];
        var ffn = new long[devices + 1];
        var any = new bool[devices + 1];
        for (int il = 0; il < model.Layers.Length; il++)
        {
            var layer = model.Layers[il];
            if (layer.IsNextN)
                continue;
            int at = p.LayerDevice(il);
            // with op offload the CPU layers' work runs on the first GPU
            if (at < 0 && offload)
                at = 0;
            any[at + 1] = true;
            attention[at + 1] = Math.Max(attention[at + 1], persistent + AttentionLive(layer.Attention, s, v, caches, ub, baseLive));
            ffn[at + 1] = Math.Max(ffn[at + 1], persistent + FfnLive(layer.Mlp, ub, h));
        }

        int outputAt = p.OutputDevice < 0 && offload ? 0 : p.OutputDevice;
        for (int d = -1; d < devices; d++)
        {
            long output = outputAt == d ? ub * model.VocabSize * F32 + ub * h * F32 + (p.OutputDevice < 0 ? hostMatrix : 0) : 0;
            long peak = Math.Max(any[d + 1] ? Math.Max(attention[d + 1], baseLive + ffn[d + 1]) : 0, output);
            if (d == 0 && hostMatrix > 0 && any[d + 1])
                peak = Math.Max(peak, baseLive + ffn[d + 1] + hostMatrix);
            long copies = 0;
            if (pipelineParallel && d >= 0 && peak > 0)
                // each GPU keeps 4 copies of its split's inputs: the first the f32 masks and embeddings from the CPU,
                // the others the previous GPU's activations and the masks as flash attention reads them (f16)
                copies = 4 * (ub * h * F32 + maskBytes / (d > 0 && s.FlashAttention ? 2 : 1));
            bytes[d + 1] = peak + copies;
            terms[d + 1] = new(attention[d + 1], baseLive + ffn[d + 1], output, d == 0 ? hostMatrix : 0, copies);
        }

        if (devices > 0)
        {
            // host compute buffer of a GPU run: the graph inputs (KQ masks, the embeddings gathered on the CPU)
            int copies = pipelineParallel ? 4 : 1;
            // learned absolute positions (StarCoder, GPT-2) add a second gathered [n_embd, n_ubatch] input
            long embeddings = ub * h * F32 * (model.LearnedPositions > 0 ? 2 : 1);
            bool cpuLayers = p.OffloadedLayers < model.Layers.Length;
            // ik_llama.cpp keeps one more [n_embd, n_ubatch] f32 activation on the host when layers stay on the CPU
            // under op offload (Llama-2-13B -ngl 0, CUDA: 21.01 MiB printed = masks + 2 × embeddings); mainline does
            // not (Qwen2.5-0.5B -ngl 0, Vulkan: 2.76 MiB = masks + embeddings)
            long host = maskBytes * copies + embeddings + (cpuLayers && offload && v.IkLlama ? ub * h * F32 : 0);
            bytes[0] = (offload ? 0 : bytes[0]) + host;
            terms[0] = terms[0] with { Inputs = maskBytes * copies + embeddings };
        }

        return new LlamaCppCompute(bytes, terms);
    }

    /// <summary>
    /// The f32 KQ masks [n_kv, pad(n_ubatch, 64)]: one per cache; a model with sliding-window layers builds a second
    /// mask for them even when ik_llama.cpp keeps them in the one full-length cache.
    /// </summary>
    private static long MaskBytes(List<LlamaCppCache> caches, long ub, ModelDescription model, LlamaCppVersion v, LlamaCppSettings s)
    {
        long rows = (ub + 63) / 64 * 64, masks = 0;
        // ik_llama.cpp builds the mask in f16 when flash attention reads it (logs from build ~3900 on)
        long bytes = v.IkLlama && s.FlashAttention && v.Build >= 3900 ? 2 : F32;
        foreach (var c in caches)
            masks += c.Cells * rows * bytes;
        bool swaLayers = model.HasLayers(AttentionKind.SlidingWindow);
        bool mixed = swaLayers && (model.HasLayers(AttentionKind.Full) || model.HasLayers(AttentionKind.Mla));
        if (caches.Count == 1 && mixed)
            masks *= 2;
        return masks;
    }

    private static LlamaCppReserveShape ReserveShape(ModelDescription model, LlamaCppSettings s, List<LlamaCppCache> caches)
    {
        long full = 0, swa = 0;
        foreach (var c in caches)
            if (c.IsSwa) swa = c.Cells; else full = c.Cells;
        if (full == 0) full = swa;
        if (swa == 0) swa = full;
        // graph_reserve: n_tokens = min(n_ctx, n_ubatch)
        long tokens = Math.Min(s.UbatchSize, Math.Max(full, swa));
        bool rotateK = false, rotateV = false;
        if (caches.Count > 0)
        {
            // llama_kv_cache: attn_rot_k/v = quantized cache type and a head size that is a multiple of 64
            var a = model.Layers[0].Attention;
            long headK = a.Kind == AttentionKind.Mla ? a.Mla!.QkNopHeadDim + a.Mla.QkRopeHeadDim : a.KeyHeadDim;
            rotateK = s.CacheTypeK.BlockSize > 1 && headK % 64 == 0;
            rotateV = s.FlashAttention && s.CacheTypeV.BlockSize > 1 && (a.Kind == AttentionKind.Mla ? a.Mla!.VHeadDim : a.ValueHeadDim) % 64 == 0;
        }

        return new(tokens, full, swa, s.FlashAttention, rotateK, rotateV);
    }

    /// <summary>
    /// Live bytes while a layer attends. Without flash attention: the f32 scores KQ [n_kv, n_ubatch, n_head]
    /// (soft_max runs in place), the f32 mask copied to the device, Q (twice with Q/K norms: the normed copy) and
    /// the attention output (the masks are counted by the caller for every layer phase) — which reproduces the
    /// printed compute buffers of Mistral-7B (SYCL, 164.01 MiB),
    /// StarCoder-15B (Metal, 220 MiB) and Qwen3-30B-A3B (CUDA, 1080 MiB) to the MiB. With flash attention the
    /// scores never materialize: Q and the output.
    /// </summary>
    private static long AttentionLive(AttentionSpec a, LlamaCppSettings s, LlamaCppVersion v, List<LlamaCppCache> caches, long ub, long baseLive)
    {
        if (!a.HasKvCache)
            return 0;
        long heads = a.HeadCount;
        long kDim = a.KeyHeadDim, vDim = a.ValueHeadDim;
        if (a.Kind == AttentionKind.Mla)
            (kDim, vDim) = LlamaCppKvCache.AttendsInLatentSpace(a, s, v)
                ? (a.Mla!.LatentElementsPerToken, a.Mla.KvLoraRank)
                : (a.Mla!.QkNopHeadDim + a.Mla.QkRopeHeadDim, a.Mla.VHeadDim);
        long q = ub * heads * kDim * F32 * (a.QkNorm == QkNormKind.None ? 1 : 2);
        long kqv = ub * heads * vDim * F32;
        if (s.FlashAttention)
            return baseLive + q + kqv;
        long nKv = 0;
        foreach (var c in caches)
            if (c.IsSwa == (a.Kind == AttentionKind.SlidingWindow) || caches.Count == 1)
                nKv = Math.Max(nKv, c.Cells);
        return ub * nKv * heads * F32 + q + kqv;
    }

    private static long FfnLive(MlpSpec f, long ub, long h) => f.Kind switch
    {
        // gate and up activations, and the down projection's output written while they are alive
        MlpKind.Dense => ub * f.FfnSize * F32 * (f.Gated ? 2 : 1) + ub * h * F32,
        MlpKind.MoE => ub * f.ActiveExpertCount * (long)f.ExpertFfnSize * F32 * (f.Gated ? 2 : 1)
            + ub * f.ExpertCount * F32
            + ub * (long)f.SharedExpertCount * f.SharedExpertFfnSize * F32 * 2,
        _ => 0,
    };

}
