using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>One KV cache of a llama_context: the full-attention cache, or the window-sized SWA cache of iSWA models.</summary>
/// <param name="Cells">Token cells (kv_size) of this cache.</param>
/// <param name="Layers">Layers cached here.</param>
/// <param name="KeyBytesPerDevice">K bytes per device index + 1 (index 0 = host).</param>
internal sealed record LlamaCppCache(string Name, bool IsSwa, long Cells, int Layers, long[] KeyBytesPerDevice, long[] ValueBytesPerDevice, long MaxKvHeads)
{
    public long KeyBytes => KeyBytesPerDevice.Sum();

    public long ValueBytes => ValueBytesPerDevice.Sum();

    public bool HasValues => ValueBytes > 0;
}

/// <summary>
/// llama.cpp's KV caches (src/llama-kv-cache.cpp, llama-kv-cache-iswa.cpp): per cached layer a K tensor
/// [n_embd_k_gqa, kv_size] and a V tensor [n_embd_v_gqa, kv_size] in the cache types, on the layer's device
/// (or host memory with --no-kv-offload). NextN/MTP layers own no cache.
/// </summary>
internal static class LlamaCppKvCache
{
    /// <summary>Context cells as llama.cpp pads them: to 256 (mainline, and ik_llama.cpp with flash attention), else 32.</summary>
    public static long PaddedContext(long ctx, bool flashAttention, LlamaCppVersion v)
    {
        long pad = v.IkLlama && !flashAttention ? 32 : 256;
        return (ctx + pad - 1) / pad * pad;
    }

    public static List<LlamaCppCache> Build(ModelDescription model, LlamaCppSettings s, LlamaCppVersion v, LlamaCppPlacement placement, long nCtx, GgmlTypeTraits typeK, GgmlTypeTraits typeV)
    {
        bool hasSwa = false, hasFull = false;
        foreach (var l in model.Layers)
        {
            if (!l.OwnsKvCache) continue;
            if (l.Attention.Kind == AttentionKind.SlidingWindow) hasSwa = true; else hasFull = true;
        }

        // iSWA (two caches) for models mixing both kinds; older builds cache SWA layers in full. --swa-full keeps the two
        // caches and sizes the SWA one to the full context (llama-kv-cache-iswa.cpp: "using full-size SWA cache"; an
        // LM Studio gpt-oss log with swa_full prints two 4096-cell caches of 144 MiB)
        bool separate = hasSwa && hasFull && v.SeparateSwaCache;
        int devices = placement.Devices;
        var full = new Acc(devices);
        var swa = new Acc(devices);
        long swaCells = 0;
        for (int il = 0; il < model.Layers.Length; il++)
        {
            var layer = model.Layers[il];
            if (!layer.OwnsKvCache)
                continue;
            var (k, vElems) = ElementsPerToken(layer.Attention, s, v);
            bool isSwa = separate && layer.Attention.Kind == AttentionKind.SlidingWindow;
            if (isSwa)
                // PR #13194: PAD(n_swa·n_seq_max + n_ubatch, 256), never more than the full context
                swaCells = s.SwaFull ? nCtx : Math.Min(nCtx, (layer.Attention.SlidingWindow * (long)s.Parallel + s.UbatchSize + 255) / 256 * 256);
            long cells = isSwa ? swaCells : nCtx;
            int slot = s.KvOffload ? placement.LayerDevice(il) + 1 : 0;
            var acc = isSwa ? swa : full;
            acc.K[slot] += typeK.RowBytes(k) * cells;
            acc.V[slot] += vElems == 0 ? 0 : typeV.RowBytes(vElems) * cells;
            acc.Layers++;
            acc.MaxKvHeads = Math.Max(acc.MaxKvHeads, layer.Attention.Kind == AttentionKind.Mla ? 1 : layer.Attention.KvHeadCount);
        }

        var caches = new List<LlamaCppCache>();
        if (full.Layers > 0)
            caches.Add(new("full", false, nCtx, full.Layers, full.K, full.V, full.MaxKvHeads));
        if (swa.Layers > 0)
            caches.Add(new("swa", true, swaCells, swa.Layers, swa.K, swa.V, swa.MaxKvHeads));
        return caches;
    }

    /// <summary>
    /// Elements per token per layer of K and V. MLA: a GGUF with the latent layout (key_length = kv_lora_rank +
    /// rope dims) caches K 576 and V 512, and no V at all since V-less MLA; an old-layout DeepSeek GGUF caches full
    /// MHA K/V in mainline; ik_llama.cpp with -mla ≥ 2 converts to the latent cache without V (-mla 1 keeps the
    /// transposed latent as V).
    /// </summary>
    private static (long K, long V) ElementsPerToken(AttentionSpec a, LlamaCppSettings s, LlamaCppVersion v)
    {
        if (a.Kind != AttentionKind.Mla)
            return (a.KeyElementsPerToken, a.ValueElementsPerToken);
        var m = a.Mla!;
        if (!AttendsInLatentSpace(a, s, v))
            return ((long)a.HeadCount * (m.QkNopHeadDim + m.QkRopeHeadDim), (long)a.HeadCount * m.VHeadDim);
        if (v.IkLlama)
            return (m.LatentElementsPerToken, s.MlaUse == 1 ? m.KvLoraRank : 0);
        return (m.LatentElementsPerToken, v.VlessMla ? 0 : m.KvLoraRank);
    }

    /// <summary>
    /// Whether an MLA layer caches and attends over the compressed latent (kv_lora_rank + rope dims) rather than
    /// full heads: mainline when the GGUF has the latent layout, ik_llama.cpp when -mla is on (or the file is latent).
    /// </summary>
    public static bool AttendsInLatentSpace(AttentionSpec a, LlamaCppSettings s, LlamaCppVersion v)
    {
        bool latentLayout = (long)a.KvHeadCount * a.KeyHeadDim == a.Mla!.LatentElementsPerToken;
        return latentLayout || (v.IkLlama && s.MlaUse > 0);
    }

    private sealed class Acc(int devices)
    {
        public long[] K { get; } = new long[devices + 1];
        public long[] V { get; } = new long[devices + 1];
        public int Layers { get; set; }
        public long MaxKvHeads { get; set; }
    }
}
