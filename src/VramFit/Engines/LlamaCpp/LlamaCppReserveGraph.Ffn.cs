using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>The feed-forward part of the reserve graph: dense, fused gate+up and mixture-of-experts blocks.</summary>
internal static partial class LlamaCppReserveGraph
{
    private sealed partial class Builder
    {
        private int Ffn(int il, MlpSpec f, int x) => f.Kind == MlpKind.MoE ? Moe(il, f, x)
            : f.FusedGateUp && f.Gated ? FusedGateUp(il, f.FfnSize, x)
            : Dense(il, f.FfnSize, f.Gated, f.Bias, x, "ffn");

        /// <summary>Phi-3 / GLM-4: one up projection [2 · n_ff] and a single-input SWIGLU halving it, then down.</summary>
        private int FusedGateUp(int il, long ff, int x)
        {
            int up = g.Op($"ffn_up-{il}", Vec(2 * ff), false, x);
            int glu = g.Op($"ffn_swiglu-{il}", Vec(ff), false, up);
            return g.Op($"ffn_out-{il}", Vec(e), false, glu);
        }

        /// <summary>build_ffn: gate and up projections, the GLU (never in place), down; or up (+ bias), GELU in place, down.</summary>
        private int Dense(int il, long ff, bool gated, bool bias, int x, string name)
        {
            if (!gated)
            {
                int up = g.Op($"{name}_up-{il}", Vec(ff), false, x);
                if (bias)
                    up = g.Op($"{name}_up_b-{il}", Vec(ff), true, up);
                int act = g.Op($"{name}_gelu-{il}", Vec(ff), true, up);
                int down = g.Op($"{name}_down-{il}", Vec(e), false, act);
                if (bias)
                    down = g.Op($"{name}_out-{il}", Vec(e), true, down);
                return down;
            }

            int gate = g.Op($"{name}_gate-{il}", Vec(ff), false, x);
            int upG = g.Op($"{name}_up-{il}", Vec(ff), false, x);
            int glu = g.Op($"{name}_glu-{il}", Vec(ff), false, gate, upG);
            return g.Op($"{name}_out-{il}", Vec(e), false, glu);
        }

        /// <summary>build_moe_ffn: router logits, soft_max probabilities, argsort top-k, the selected weights
        /// (normalized for qwen3moe), the three MUL_MAT_ID products [n_ff_exp | n_embd, n_expert_used, n_tokens], the
        /// weighting in place and the sum of the expert slices; DeepSeek adds the score-correction bias before the
        /// top-k and the shared expert after.</summary>
        private int Moe(int il, MlpSpec f, int x)
        {
            long nExp = f.ExpertCount, used = f.ActiveExpertCount, ff = f.ExpertFfnSize;
            int logits = g.Op($"ffn_moe_logits-{il}", Vec(nExp), false, x);
            // gpt-oss: the router bias is added (in place) and the soft_max runs over the selected logits only
            // (LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT); the others soft_max all router logits in place
            int probs = g.Op($"ffn_moe_probs-{il}", Vec(nExp), true, logits);
            int selection = probs;
            if (f.RouterScoreCorrectionBias)
                selection = g.Op($"ffn_moe_probs_biased-{il}", Vec(nExp), true, probs);
            int probs3 = g.View(probs, new(F32, 1, nExp, t));
            int argsort = g.Op($"ffn_moe_argsort-{il}", new(GgmlType.I32, nExp, t), false, selection);
            int topk = g.View(argsort, new(GgmlType.I32, used, t));
            int weights = g.Op($"ffn_moe_weights-{il}", new(F32, 1, used, t), false, probs3, topk);
            if (arch == Arch.GptOss)
            {
                int w2 = g.View(weights, new(F32, used, t));
                int soft = g.Op($"ffn_moe_weights_soft-{il}", new(F32, used, t), true, w2);
                weights = g.View(soft, new(F32, 1, used, t));
            }
            // normalized top-k weights (build_moe_ffn norm_w): qwen3moe and the llama builder's MoE (Mixtral)
            if (arch is Arch.Qwen3Moe or Arch.Llama)
            {
                int w2 = g.View(weights, new(F32, used, t));
                int sum = g.Op($"ffn_moe_weights_sum-{il}", new(F32, 1, t), false, w2);
                sum = g.Op($"ffn_moe_weights_sum_clamped-{il}", new(F32, 1, t), true, sum);
                int norm = g.Op($"ffn_moe_weights_norm-{il}", new(F32, used, t), true, w2, sum);
                weights = g.View(norm, new(F32, 1, used, t));
            }

            int x3 = g.View(x, new(F32, e, 1, t));
            int gate = g.Op($"ffn_moe_gate-{il}", new(F32, ff, used, t), false, x3, topk);
            // expert biases (gpt-oss): ADD_ID of each selected expert's bias row after every product
            if (f.Bias)
                gate = g.Op($"ffn_moe_gate_biased-{il}", new(F32, ff, used, t), true, gate, topk);
            int up = g.Op($"ffn_moe_up-{il}", new(F32, ff, used, t), false, x3, topk);
            if (f.Bias)
                up = g.Op($"ffn_moe_up_biased-{il}", new(F32, ff, used, t), true, up, topk);
            int glu = g.Op($"ffn_moe_glu-{il}", new(F32, ff, used, t), false, gate, up);
            int down = g.Op($"ffn_moe_down-{il}", new(F32, e, used, t), false, glu, topk);
            if (f.Bias)
                down = g.Op($"ffn_moe_down_biased-{il}", new(F32, e, used, t), true, down, topk);
            int weighted = g.Op($"ffn_moe_weighted-{il}", new(F32, e, used, t), true, down, weights);
            int sumOut = g.View(weighted, Vec(e));
            for (int i = 1; i < used; i++)
                sumOut = g.Op($"ffn_moe_out-{il}", Vec(e), true, sumOut, g.View(weighted, Vec(e)));
            if (f.SharedExpertCount > 0)
            {
                int shared = Dense(il, (long)f.SharedExpertFfnSize * f.SharedExpertCount, true, false, x, "ffn_shexp");
                sumOut = g.Op($"ffn_out-{il}", Vec(e), true, sumOut, shared);
            }

            return sumOut;
        }
    }
}
