using VramFit.Models;

namespace VramFit.Engines.LlamaCpp;

/// <summary>Compute buffer sizes per device (index + 1; 0 = the host compute buffer) and the terms behind them.</summary>
internal sealed record LlamaCppCompute(long[] BytesPerDevice, string[] Formula);

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
        var bytes = new long[devices + 1];
        var why = new string[devices + 1];
        long ub = Math.Min(s.UbatchSize, caches.Count > 0 ? caches[0].Cells : s.UbatchSize);
        long h = model.HiddenSize;
        long baseLive = ub * h * F32 * 2;      // residual stream + normalized input of the current block

        // the largest host-resident matrix each GPU may have to copy in for op offload
        long hostMatrix = 0;
        if (devices > 0 && s.OpOffload && ub >= 32)
            foreach (var t in tensors.Tensors)
                if (p.TensorDevice(t.Name, t.Layer) < 0 && !t.Name.StartsWith("token_embd", StringComparison.Ordinal) && t.Elements > h)
                    hostMatrix = Math.Max(hostMatrix, t.Bytes);

        for (int d = -1; d < devices; d++)
        {
            long attention = 0, ffn = 0, output = 0;
            bool any = false;
            for (int il = 0; il < model.Layers.Length; il++)
            {
                var layer = model.Layers[il];
                if (p.LayerDevice(il) != d || layer.IsNextN)
                    continue;
                any = true;
                attention = Math.Max(attention, AttentionLive(layer.Attention, s, caches, ub));
                ffn = Math.Max(ffn, FfnLive(layer.Mlp, ub));
            }

            if (p.OutputDevice == d)
                output = ub * model.VocabSize * F32 + ub * h * F32;
            long peak = Math.Max(any ? baseLive + Math.Max(attention, ffn) : 0, output);
            if (d >= 0 && hostMatrix > 0 && peak > 0)
                peak = Math.Max(peak, baseLive + ffn + hostMatrix);
            if (d == 0 && hostMatrix > 0 && peak == 0)
                // no layer on the GPU, but op offload still runs the large products there (first GPU)
                peak = ub * model.VocabSize * F32 + ub * h * F32 + hostMatrix;
            bytes[d + 1] = peak;
            why[d + 1] = $"max(attention {Mib(attention)}, ffn {Mib(ffn)}) + residual {Mib(baseLive)}, output {Mib(output)}";
        }

        if (devices > 0)
        {
            // host compute buffer of a GPU run: the graph inputs (KQ mask per cache, f32 n_kv × pad(n_ubatch, 64)),
            // the embeddings gathered on the CPU, plus what CPU-resident layers compute there
            long masks = 0;
            foreach (var c in caches)
                masks += c.Cells * ((ub + 63) / 64 * 64) * F32;
            int copies = pipelineParallel ? 4 : 1;
            long host = masks * copies + ub * h * F32;
            bytes[0] = Math.Max(bytes[0], 0) + host;
            why[0] = $"{copies} × KQ masks {Mib(masks)} + token embeddings {Mib(ub * h * F32)} + CPU layers";
        }

        return new LlamaCppCompute(bytes, why);
    }

    private static long AttentionLive(AttentionSpec a, LlamaCppSettings s, List<LlamaCppCache> caches, long ub)
    {
        if (!a.HasKvCache)
            return 0;
        long heads = a.HeadCount;
        long kDim = a.Kind == AttentionKind.Mla ? a.Mla!.LatentElementsPerToken : a.KeyHeadDim;
        long vDim = a.Kind == AttentionKind.Mla ? a.Mla!.VHeadDim : a.ValueHeadDim;
        long q = ub * heads * kDim * F32;
        long kqv = ub * heads * vDim * F32;
        if (s.FlashAttention)
            return q + kqv;
        long nKv = 0;
        foreach (var c in caches)
            if (c.IsSwa == (a.Kind == AttentionKind.SlidingWindow) || caches.Count == 1)
                nKv = Math.Max(nKv, c.Cells);
        return q + ub * nKv * heads * F32;
    }

    private static long FfnLive(MlpSpec f, long ub) => f.Kind switch
    {
        MlpKind.Dense => ub * f.FfnSize * F32 * (f.Gated ? 2 : 1),
        MlpKind.MoE => ub * f.ActiveExpertCount * (long)f.ExpertFfnSize * F32 * (f.Gated ? 2 : 1)
            + ub * f.ExpertCount * F32
            + ub * (long)f.SharedExpertCount * f.SharedExpertFfnSize * F32 * 2,
        _ => 0,
    };

    private static string Mib(long b) => $"{b / 1048576.0:0.##} MiB";
}
