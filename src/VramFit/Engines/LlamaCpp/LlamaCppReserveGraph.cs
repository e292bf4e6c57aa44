using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>What the worst-case reserve graph depends on besides the model.</summary>
/// <param name="Tokens">n_tokens = n_outputs = n_ubatch (llama_context::graph_reserve, worst case: every token an output).</param>
/// <param name="FullCells">n_kv of the full-attention cache (its whole size at reserve time).</param>
/// <param name="SwaCells">n_kv of the sliding-window cache (iSWA), or the full size when SWA layers share the one cache.</param>
/// <param name="RotateK">llama_kv_cache attn_rot_k: a quantized K cache whose head size is a multiple of 64 gets
/// Hadamard-rotated Q and K (src/llama-kv-cache.cpp, b10221).</param>
/// <param name="RotateV">attn_rot_v: the same for a quantized V cache (rotated V, un-rotated attention output).</param>
internal readonly record struct LlamaCppReserveShape(long Tokens, long FullCells, long SwaCells, bool FlashAttention, bool RotateK, bool RotateV);

/// <summary>
/// The ggml graph llama.cpp b10221 builds for the worst-case reserve (src/llama-graph.cpp, src/models/*.cpp), as the
/// nodes ggml-alloc sees: per layer the norms, projections, RoPE, the KV-cache writes (SET_ROWS into the cache), the
/// attention (KQ, soft_max, KQV or one FLASH_ATTN_EXT), the feed-forward (dense or MoE) and the residual adds; then
/// the output norm and the logits. Verified node by node against the scheduler's graph dump (GGML_SCHED_DEBUG=2)
/// for llama (and Mixtral), qwen2, qwen3, qwen3moe, gemma2, gemma3, cohere2, starcoder, deepseek2 (old MHA layout),
/// phi3, glm4 and gpt-oss.
/// </summary>
internal static partial class LlamaCppReserveGraph
{
    private const GgmlType F32 = GgmlType.F32;

    /// <summary>Whether the graph of this model can be built here (the architectures checked against real llama.cpp).</summary>
    public static bool Supports(ModelDescription model)
    {
        var arch = ArchitectureOf(model);
        if (arch == Arch.Unknown)
            return false;
        foreach (var l in model.Layers)
        {
            if (l.IsNextN || l.SharesKvCache || !l.Attention.HasKvCache)
                return false;
            if (l.Attention.Kind == AttentionKind.Mla && (arch != Arch.DeepSeek2 || IsLatentMla(l.Attention)))
                return false;
            if (l.Mlp.Kind == MlpKind.None)
                return false;
        }

        return true;
    }

    public static GgmlGraph Build(ModelDescription model, LlamaCppReserveShape shape)
    {
        var arch = ArchitectureOf(model);
        var b = new Builder(model, shape, arch);
        return b.Build();
    }

    private static bool IsLatentMla(AttentionSpec a) => (long)a.KvHeadCount * a.KeyHeadDim == a.Mla!.LatentElementsPerToken;

    private enum Arch
    {
        Unknown,
        Llama,
        Qwen2,
        Qwen3,
        Qwen3Moe,
        Gemma2,
        Gemma3,
        Cohere2,
        StarCoder,
        DeepSeek2,
        Phi3,
        Glm4,
        GptOss,
    }

    private static Arch ArchitectureOf(ModelDescription model) => model.Architecture switch
    {
        "llama" or "LlamaForCausalLM" or "mistral" or "MistralForCausalLM" => Arch.Llama,
        "qwen2" or "Qwen2ForCausalLM" => Arch.Qwen2,
        "qwen3" or "Qwen3ForCausalLM" => Arch.Qwen3,
        "qwen3moe" or "Qwen3MoeForCausalLM" => Arch.Qwen3Moe,
        "gemma2" or "Gemma2ForCausalLM" => Arch.Gemma2,
        "gemma3" or "Gemma3ForCausalLM" => Arch.Gemma3,
        "cohere2" or "Cohere2ForCausalLM" => Arch.Cohere2,
        "starcoder" or "GPTBigCodeForCausalLM" => Arch.StarCoder,
        "deepseek2" or "DeepseekV2ForCausalLM" or "DeepseekV3ForCausalLM" => Arch.DeepSeek2,
        "phi3" or "Phi3ForCausalLM" => Arch.Phi3,
        "glm4" or "Glm4ForCausalLM" => Arch.Glm4,
        "gpt-oss" or "gpt_oss" or "GptOssForCausalLM" => Arch.GptOss,
        _ => Arch.Unknown,
    };

    private sealed partial class Builder(ModelDescription model, LlamaCppReserveShape s, Arch arch)
    {
        private readonly GgmlGraph g = new();
        private readonly long t = s.Tokens;
        private readonly long e = model.HiddenSize;
        private int pos = -1, outIds = -1;
        private readonly CacheInputs full = new(), swa = new();

        /// <summary>The inputs each KV cache builds for its layers: row indices, mask, rotation matrices.</summary>
        private sealed class CacheInputs
        {
            public int KIdx = -1, VIdx = -1, Mask = -1, KRot = -1, VRot = -1;
        }

        public GgmlGraph Build()
        {
            // llm_graph_context::build_inp_embd: the token ids, row-gathered from token_embd
            int tokens = g.Input("inp_tokens", new(GgmlType.I32, t));
            int cur = g.Op("embd", Vec(e), false, tokens);
            // the gathered embeddings are a graph output (t_inp_embd, kept for embedding extraction): ggml-alloc
            // never frees them nor lets a node overwrite them — measured: without this every sweep case is one
            // [n_embd, n_ubatch] f32 tensor short
            g.MarkOutput(cur);
            if (arch == Arch.StarCoder)
            {
                // learned absolute positions: a second gather, added to the token embeddings
                pos = g.Input("inp_pos", new(GgmlType.I32, t));
                int posEmbd = g.Op("pos_embd", Vec(e), false, pos);
                cur = g.Op("inpL", Vec(e), true, cur, posEmbd);
            }

            if (arch is Arch.Gemma2 or Arch.Gemma3)
                cur = g.Op("inp_scaled", Vec(e), true, cur);        // × sqrt(n_embd)

            int n = model.Layers.Length;
            for (int il = 0; il < n; il++)
                cur = Layer(il, cur, last: il == n - 1 && arch != Arch.GptOss);
            // gpt-oss (src/models/openai-moe-iswa.cpp) keeps the output rows of the finished last block
            if (arch == Arch.GptOss)
                cur = g.Op($"l_out_rows-{n - 1}", Vec(e), false, cur, OutIds());

            cur = Norm("norm", cur, model.NormKind == NormKind.LayerNorm, bias: model.NormKind == NormKind.LayerNorm, "result_norm");
            int logits = g.Op("result_output", Vec(model.VocabSize), false, cur);
            if (arch == Arch.Gemma2)
            {
                // final logit soft-capping: scale, tanh, scale (all in place)
                logits = g.Op("logits_scaled", Vec(model.VocabSize), true, logits);
                logits = g.Op("logits_tanh", Vec(model.VocabSize), true, logits);
                logits = g.Op("result_output", Vec(model.VocabSize), true, logits);
            }
            else if (arch == Arch.Cohere2)
            {
                logits = g.Op("result_output", Vec(model.VocabSize), true, logits);   // × logit_scale
            }

            g.MarkOutput(logits);
            return g;
        }

        private GgmlShape Vec(long rows) => new(F32, rows, t);

        private int Pos() => pos >= 0 ? pos : pos = g.Input("inp_pos", new(GgmlType.I32, t));

        private int OutIds() => outIds >= 0 ? outIds : outIds = g.Input("inp_out_ids", new(GgmlType.I32, t));

        /// <summary>build_norm: RMS_NORM (in place) or NORM (not in place), × weight, + bias.</summary>
        private int Norm(string name, int x, bool layerNorm, bool bias, string outName)
        {
            var shape = g.Shape(x);
            int n = g.Op(name, shape, !layerNorm, x);
            n = g.Op(bias ? name + "_w" : outName, shape, true, n);
            if (bias)
                n = g.Op(outName, shape, true, n);
            return n;
        }

        private int Layer(int il, int inpL, bool last)
        {
            var layer = model.Layers[il];
            bool ln = model.NormKind == NormKind.LayerNorm;
            int cur = Norm($"norm-{il}", inpL, ln, layer.NormBias, $"attn_norm-{il}");
            if (arch == Arch.Cohere2)
                return ParallelBlock(il, layer, inpL, cur, last);

            int attn = Attention(il, layer, cur);
            // the last layer keeps only the output rows (inp_out_ids; all of them in the reserve graph)
            if (last)
                attn = g.Op($"attn_rows-{il}", g.Shape(attn), false, attn, OutIds());
            if (arch is Arch.Gemma2 or Arch.Gemma3 or Arch.Glm4)
                attn = Norm($"norm-{il}", attn, false, false, $"attn_post_norm-{il}");
            if (last)
                inpL = g.Op($"inp_rows-{il}", g.Shape(inpL), false, inpL, OutIds());

            int ffnInp = g.Op($"ffn_inp-{il}", Vec(e), true, attn, inpL);
            cur = Norm($"norm-{il}", ffnInp, ln, layer.NormBias, $"ffn_norm-{il}");
            cur = Ffn(il, layer.Mlp, cur);
            if (arch is Arch.Gemma2 or Arch.Gemma3 or Arch.Glm4)
                cur = Norm("norm", cur, false, false, $"ffn_post_norm-{il}");
            return g.Op($"l_out-{il}", Vec(e), true, cur, ffnInp);
        }

        /// <summary>Cohere2: attention and feed-forward read the same normed input; the FFN output is added to the
        /// residual first, the attention projection after (src/models/cohere2-iswa.cpp).</summary>
        private int ParallelBlock(int il, LayerSpec layer, int inpL, int normed, bool last)
        {
            int kqv = AttentionCore(il, layer.Attention, normed);
            if (last)
                normed = g.Op($"attn_norm_rows-{il}", g.Shape(normed), false, normed, OutIds());
            int ffn = Ffn(il, layer.Mlp, normed);
            if (last)
                inpL = g.Op($"inp_rows-{il}", g.Shape(inpL), false, inpL, OutIds());
            int sum = g.Op($"ffn_res-{il}", Vec(e), true, ffn, inpL);
            int attn = g.Op($"attn_out-{il}", Vec(e), false, kqv);
            if (last)
                attn = g.Op($"attn_rows-{il}", Vec(e), false, attn, OutIds());
            return g.Op($"l_out-{il}", Vec(e), true, sum, attn);
        }

        private int Attention(int il, LayerSpec layer, int x)
        {
            int kqv = AttentionCore(il, layer.Attention, x);
            int o = g.Op($"attn_out-{il}", Vec(e), false, kqv);
            if (layer.Attention.OutputBias)
                o = g.Op($"attn_out_b-{il}", Vec(e), true, o);
            return o;
        }

        /// <summary>Q, K, V projections (+ bias, QK norm, RoPE), the cache writes and the attention; returns the
        /// attention output [n_head · d_v, n_tokens] before the output projection.</summary>
        private int AttentionCore(int il, AttentionSpec a, int x)
        {
            if (a.Kind == AttentionKind.Mla)
                return MlaAttention(il, a, x);
            long hq = a.HeadCount, hk = a.KvHeadCount, dk = a.KeyHeadDim, dv = a.ValueHeadDim;
            bool sliding = a.Kind == AttentionKind.SlidingWindow;
            // cohere2 applies RoPE on its sliding-window layers only
            bool rope = arch != Arch.Cohere2 || sliding;
            int q, k, v;
            if (a.FusedQkv)
            {
                // one QKV projection (+ bias); Q, K and V are views of it; V is made contiguous for the cache
                int qkv = g.Op($"wqkv-{il}", Vec(hq * dk + 2 * hk * dk), false, x);
                if (a.QkvBias)
                    qkv = g.Op($"wqkv_b-{il}", Vec(hq * dk + 2 * hk * dk), true, qkv);
                q = Slice(qkv, new(F32, dk, hq, t));
                k = Slice(qkv, new(F32, dk, hk, t));
                v = Slice(qkv, new(F32, dv, hk, t));
                var fc = Cache(sliding);
                if (arch == Arch.Phi3)
                {
                    // src/models/phi3.cpp: RoPE of the Q and K slices (new tensors), Q × 1/sqrt(d_head) in place
                    q = g.Op($"Qcur_rope-{il}", new(F32, dk, hq, t), true, q, Pos());
                    q = g.Op($"Qcur_scaled-{il}", new(F32, dk, hq, t), true, q);
                }

                if (s.RotateK)
                    q = Rotate(q, fc, keys: true);
                if (s.RotateV)
                    v = Rotate(v, fc, keys: false);
                if (arch == Arch.Phi3)
                    k = g.Op($"Kcur_rope-{il}", new(F32, dk, hk, t), true, k, Pos());
                if (s.RotateK)
                    k = Rotate(k, fc, keys: true);
                // phi3 stores the V slice as it is when the cache keeps V untransposed (flash attention); the
                // transposed store needs it contiguous. StarCoder's builder always makes it contiguous.
                bool needsCont = slices.Contains(v) && (arch != Arch.Phi3 || !s.FlashAttention);
                return AttendAndStore(il, a, q, k, v, sliding, contiguousV: !needsCont);
            }

            // the model builders project Q, K, V in this order; llama-style builders expand V before K
            bool vBeforeK = arch is Arch.Llama or Arch.Qwen2 or Arch.Qwen3 or Arch.Qwen3Moe or Arch.Glm4;
            var c = Cache(sliding);
            q = Projection(il, "Qcur", x, hq, dk, a, rope, isQ: true, c);
            if (arch is Arch.Gemma2 or Arch.Gemma3)
                q = g.Op($"Qscaled-{il}", g.Shape(q), true, q);   // × 1/sqrt(query_pre_attn_scalar)
            if (s.RotateK)
                q = Rotate(q, c, keys: true);
            if (vBeforeK)
            {
                v = Projection(il, "Vcur", x, hk, dv, a, false, isQ: false, c, isV: true);
                k = Projection(il, "Kcur", x, hk, dk, a, rope, isQ: false, c);
            }
            else
            {
                k = Projection(il, "Kcur", x, hk, dk, a, rope, isQ: false, c);
                v = Projection(il, "Vcur", x, hk, dv, a, false, isQ: false, c, isV: true);
            }

            if (s.RotateK)
                k = Rotate(k, c, keys: true);
            return AttendAndStore(il, a, q, k, v, sliding, contiguousV: true);
        }

        /// <summary>A projection [heads · dim, n_tokens] (+ bias), viewed as [dim, heads, n_tokens], then the QK
        /// norm (RMS_NORM of the view, × weight) and RoPE.</summary>
        private int Projection(int il, string name, int x, long heads, long dim, AttentionSpec a, bool rope, bool isQ, CacheInputs c, bool isV = false)
        {
            int p = g.Op($"{name}-{il}", Vec(heads * dim), false, x);
            if (a.QkvBias)
                p = g.Op($"{name}_b-{il}", Vec(heads * dim), true, p);
            var shape3 = new GgmlShape(F32, dim, heads, t);
            int cur = g.View(p, shape3);
            if (isV)
            {
                if (s.RotateV)
                    cur = Rotate(cur, c, keys: false);
                return cur;
            }

            if (a.QkNorm != QkNormKind.None)
            {
                cur = g.Op($"norm-{il}", shape3, true, cur);
                cur = g.Op($"{name}_normed-{il}", shape3, true, cur);
            }

            if (rope)
                cur = g.Op($"{name}_rope-{il}", shape3, true, cur, Pos());
            return cur;
        }

        /// <summary>The attention-rotation matmul (llm_graph_context::build_attn with attn_rot_k/v): the cache's
        /// Hadamard input [n, n] × the rows viewed as [n, …]. K: one rotation over the whole head (n_embd_head_k);
        /// V: 64-wide blocks. A non-contiguous view (a slice of a fused QKV) is made contiguous first.</summary>
        private int Rotate(int x, CacheInputs c, bool keys)
        {
            var shape = g.Shape(x);
            if (g.ViewOf(x) >= 0 && !IsContiguousView(x))
                x = g.Op("cont", shape, false, x);
            int rot;
            if (keys)
                rot = c.KRot >= 0 ? c.KRot : c.KRot = g.Input("attn_inp_k_rot", new(F32, shape.Ne0, shape.Ne0));
            else
                rot = c.VRot >= 0 ? c.VRot : c.VRot = g.Input("attn_inp_v_rot", new(F32, 64, 64));
            int view = g.View(x, shape);
            int r = g.Op("rot", shape, false, rot, view);
            return g.View(r, shape);
        }

        private readonly HashSet<int> slices = [];

        private bool IsContiguousView(int x) => !slices.Contains(x);

        /// <summary>A strided view into a fused projection: not contiguous.</summary>
        private int Slice(int parent, GgmlShape shape)
        {
            int v = g.View(parent, shape);
            slices.Add(v);
            return v;
        }

        private CacheInputs Cache(bool sliding) => sliding && s.SwaCells != s.FullCells || sliding && SeparateSwaInputs ? swa : full;

        /// <summary>iSWA models (two caches) build separate index and mask inputs per cache, even when equal in size.</summary>
        private bool SeparateSwaInputs => arch is Arch.Gemma2 or Arch.Gemma3 or Arch.Cohere2 or Arch.GptOss;

        /// <summary>Stores K and V into the cache (SET_ROWS of [n_embd_gqa, n_tokens] rows; V transposed without
        /// flash attention) and attends: KQ = K·Q [n_kv, n_tokens, n_head] f32, soft_max in place, KQV = V·KQ, permuted
        /// and made contiguous; with flash attention one FLASH_ATTN_EXT [d_v, n_head, n_tokens].</summary>
        private int AttendAndStore(int il, AttentionSpec a, int q, int k, int v, bool sliding, bool contiguousV)
        {
            long hq = a.HeadCount, hk = a.KvHeadCount, dv = a.ValueHeadDim;
            long nKv = sliding ? s.SwaCells : s.FullCells;
            var c = Cache(sliding);
            bool transposedV = !s.FlashAttention;
            if (c.KIdx < 0)
            {
                c.KIdx = g.Input("k_idxs", new(GgmlType.I64, t));
                c.VIdx = g.Input("v_idxs", new(GgmlType.I64, transposedV ? t * hk * dv : t));
            }

            int kRow = g.View(k, new(F32, g.Shape(k).Elements / t, t));
            g.ExternalOp($"cache_k-{il}", new(F32, 1), kRow, c.KIdx);
            if (!contiguousV)
                v = g.Op($"Vcur_cont-{il}", new(F32, hk * dv, t), false, v);
            int vRow = g.View(v, new(F32, hk * dv, t));
            if (transposedV)
                vRow = g.View(vRow, new(F32, hk * dv * t));
            g.ExternalOp($"cache_v-{il}", new(F32, 1), vRow, c.VIdx);
            if (c.Mask < 0)
                c.Mask = g.Input("kq_mask", new(s.FlashAttention ? GgmlType.F16 : F32, nKv, t));
            int qv = g.View(g.View(q, g.Shape(q)), g.Shape(q));
            if (s.FlashAttention)
            {
                int fa = g.Op($"fa-{il}", new(F32, dv, hq, t), false, qv, c.Mask);
                int o = g.View(fa, new(F32, dv * hq, t));
                if (s.RotateV)
                    o = Rotate(o, c, keys: false);

                return o;
            }

            int kq = g.Op($"kq-{il}", new(F32, nKv, t, hq), false, qv);
            if (arch == Arch.Gemma2)
            {
                // attention logit soft-capping: scale, tanh, scale before the soft_max
                kq = g.Op($"kq_scaled_1-{il}", new(F32, nKv, t, hq), true, kq);
                kq = g.Op($"kq_tanh-{il}", new(F32, nKv, t, hq), true, kq);
                kq = g.Op($"kq_scaled_2-{il}", new(F32, nKv, t, hq), true, kq);
            }

            kq = g.Op($"kq_soft_max-{il}", new(F32, nKv, t, hq), true, kq, c.Mask);
            int kqv = g.Op($"kqv-{il}", new(F32, dv, t, hq), false, kq);
            int perm = g.View(kqv, new(F32, dv, hq, t));
            return g.Op($"kqv_out-{il}", new(F32, dv * hq, t), false, perm);
        }

        /// <summary>DeepSeek-2 MLA with the old (per-head K/V) cache layout (src/models/deepseek2.cpp).</summary>
        private int MlaAttention(int il, AttentionSpec a, int x)
        {
            var m = a.Mla!;
            long h = a.HeadCount, nope = m.QkNopHeadDim, ropeDim = m.QkRopeHeadDim, kDim = nope + ropeDim;
            int q;
            if (m.QLoraRank > 0)
            {
                q = g.Op($"q_a-{il}", Vec(m.QLoraRank), false, x);
                q = Norm($"norm-{il}", q, false, false, $"q_a_norm-{il}");
                q = g.Op($"q-{il}", Vec(h * kDim), false, q);
            }
            else
            {
                q = g.Op($"q-{il}", Vec(h * kDim), false, x);
            }

            int qNope = g.View(q, new(F32, nope, h, t));
            int qPe = g.View(q, new(F32, ropeDim, h, t));
            qPe = g.Op($"q_pe-{il}", new(F32, ropeDim, h, t), true, qPe, Pos());
            int qCur = g.Op($"Qcur-{il}", new(F32, kDim, h, t), false, qNope, qPe);
            int kvPe = g.Op($"kv_cmpr_pe-{il}", Vec(m.KvLoraRank + ropeDim), false, x);
            int kvCmpr = g.View(kvPe, Vec(m.KvLoraRank));
            kvCmpr = Norm($"norm-{il}", kvCmpr, false, false, $"kv_cmpr-{il}");
            int kv = g.Op($"kv-{il}", Vec(h * (nope + m.VHeadDim)), false, kvCmpr);
            int vView = g.View(kv, new(F32, m.VHeadDim, h, t));
            int v = g.Op($"Vcur_cont-{il}", new(F32, m.VHeadDim * h, t), false, vView);
            if (s.RotateV)
                v = Rotate(v, full, keys: false);
            int kNope = g.View(kv, new(F32, nope, h, t));
            int kPe = g.View(kvPe, new(F32, ropeDim, 1, t));
            kPe = g.Op($"k_pe-{il}", new(F32, ropeDim, 1, t), true, kPe, Pos());
            int kPeAll = g.Op($"k_pe_repeat-{il}", new(F32, ropeDim, h, t), false, kPe);
            int k = g.Op($"Kcur-{il}", new(F32, kDim, h, t), false, kNope, kPeAll);
            if (s.RotateK)
            {
                qCur = Rotate(qCur, full, keys: true);
                k = Rotate(k, full, keys: true);
            }

            var attn = a with { KvHeadCount = a.HeadCount, KeyHeadDim = (int)kDim, ValueHeadDim = m.VHeadDim };
            return AttendAndStore(il, attn, qCur, k, g.View(v, new(F32, m.VHeadDim, h, t)), sliding: false, contiguousV: true);
        }
    }
}
