using System.Collections.Immutable;
using VramFit.Errors;

namespace VramFit.Models;

/// <summary>
/// Derives every weight tensor of a model from its description, named as GGUF names them. The parameter
/// count, the weight bytes under any <see cref="Numerics.WeightFormat"/>, per-layer placement for offload and
/// tensor-parallel sharding all come from this one list, so a family's layout is written once, here.
/// </summary>
public static class TensorInventory
{
    /// <summary>All weight tensors of <paramref name="model"/>, global tensors first, then block by block.</summary>
    public static ImmutableArray<WeightTensor> Build(ModelDescription model)
    {
        var list = ImmutableArray.CreateBuilder<WeightTensor>();
        long h = model.HiddenSize, vocab = model.VocabSize;
        bool finalNormBias = model.NormKind == NormKind.LayerNorm && model.Layers[0].NormBias;

        list.Add(new("token_embd.weight", TensorRole.TokenEmbedding, -1, h, vocab));
        if (model.LearnedPositions > 0)
            list.Add(new("position_embd.weight", TensorRole.PositionEmbedding, -1, h, model.LearnedPositions));
        list.Add(new("output_norm.weight", TensorRole.Norm, -1, h));
        if (finalNormBias)
            list.Add(new("output_norm.bias", TensorRole.Bias, -1, h));
        if (!model.TiedEmbeddings)
            list.Add(new("output.weight", TensorRole.OutputHead, -1, h, vocab));
        if (model.OutputBias)
            list.Add(new("output.bias", TensorRole.OutputBias, -1, vocab));

        for (int i = 0; i < model.Layers.Length; i++)
            AddLayer(list, model, model.Layers[i], i);
        return list.ToImmutable();
    }

    /// <summary>Total parameters: the sum of every tensor's elements.</summary>
    public static long ParameterCount(ModelDescription model)
    {
        long total = 0;
        foreach (var t in Build(model))
            total = checked(total + t.Elements);
        return total;
    }

    private static void AddLayer(ImmutableArray<WeightTensor>.Builder list, ModelDescription model, LayerSpec layer, int i)
    {
        long h = model.HiddenSize;
        string P(string name) => $"blk.{i}.{name}";
        void Add(string name, TensorRole role, long cols, long rows = 1, long experts = 1) =>
            list.Add(new(P(name), role, i, cols, rows, experts));

        string[] normNames = GptOss(model)
            // gpt-oss: the norm before the MoE block is HF's post_attention_layernorm, which convert_hf_to_gguf.py
            // maps to ATTN_POST_NORM and llama.cpp's LLM_ARCH_OPENAI_MOE loads as blk.N.post_attention_norm
            ? ["attn_norm", "post_attention_norm"]
            : ["attn_norm", "ffn_norm", "post_attention_norm", "post_ffw_norm", "norm4", "norm5", "norm6", "norm7"];
        for (int n = 0; n < layer.NormCount; n++)
        {
            Add(normNames[n] + ".weight", TensorRole.Norm, h);
            if (layer.NormBias)
                Add(normNames[n] + ".bias", TensorRole.Bias, h);
        }

        AddAttention(Add, layer.Attention, h);
        AddMlp(Add, layer.Mlp, h);

        if (layer.IsNextN)
        {
            // DeepSeek-V3 / GLM-4.5 MTP block: eh_proj [2h → h], enorm, hnorm, shared_head.norm, and its own
            // copies of the embedding and the output head (model.layers.61.embed_tokens / shared_head.head).
            Add("nextn.eh_proj.weight", TensorRole.NextNProjection, 2 * h, h);
            Add("nextn.enorm.weight", TensorRole.Norm, h);
            Add("nextn.hnorm.weight", TensorRole.Norm, h);
            Add("nextn.shared_head_norm.weight", TensorRole.Norm, h);
            Add("nextn.embed_tokens.weight", TensorRole.TokenEmbedding, h, model.VocabSize);
            Add("nextn.shared_head_head.weight", TensorRole.OutputHead, h, model.VocabSize);
        }
    }

    private static bool GptOss(ModelDescription model) => model.Architecture is "gpt-oss" or "gpt_oss";

    private delegate void AddTensor(string name, TensorRole role, long cols, long rows = 1, long experts = 1);

    private static void AddAttention(AddTensor add, AttentionSpec a, long h)
    {
        switch (a.Kind)
        {
            case AttentionKind.Full or AttentionKind.SlidingWindow:
            {
                long q = (long)a.HeadCount * a.KeyHeadDim, k = (long)a.KvHeadCount * a.KeyHeadDim, v = (long)a.KvHeadCount * a.ValueHeadDim;
                // Qwen3-Next: q_proj emits the query and an equally wide sigmoid gate (llama.cpp qwen3next attn_q).
                long qRows = a.GatedQuery ? 2 * q : q;
                if (a.FusedQkv)
                {
                    add("attn_qkv.weight", TensorRole.AttentionQkv, h, qRows + k + v);
                    if (a.QkvBias)
                        add("attn_qkv.bias", TensorRole.Bias, qRows + k + v);
                }
                else
                {
                    add("attn_q.weight", TensorRole.AttentionQuery, h, qRows);
                    add("attn_k.weight", TensorRole.AttentionKey, h, k);
                    add("attn_v.weight", TensorRole.AttentionValue, h, v);
                    if (a.QkvBias)
                    {
                        add("attn_q.bias", TensorRole.Bias, qRows);
                        add("attn_k.bias", TensorRole.Bias, k);
                        add("attn_v.bias", TensorRole.Bias, v);
                    }
                }

                add("attn_output.weight", TensorRole.AttentionOutput, (long)a.HeadCount * a.ValueHeadDim, h);
                if (a.OutputBias)
                    add("attn_output.bias", TensorRole.Bias, h);
                AddQkNorm(add, a, q, k);
                if (a.Sinks)
                    add("attn_sinks.weight", TensorRole.AttentionSinks, a.HeadCount);
                break;
            }

            case AttentionKind.Mla:
            {
                var m = a.Mla!;
                long heads = a.HeadCount, qk = m.QkNopHeadDim + m.QkRopeHeadDim;
                if (m.QLoraRank > 0)
                {
                    add("attn_q_a.weight", TensorRole.MlaQueryA, h, m.QLoraRank);
                    add("attn_q_a_norm.weight", TensorRole.Norm, m.QLoraRank);
                    add("attn_q_b.weight", TensorRole.MlaQueryB, m.QLoraRank, heads * qk);
                }
                else
                {
                    add("attn_q.weight", TensorRole.AttentionQuery, h, heads * qk);
                }

                add("attn_kv_a_mqa.weight", TensorRole.MlaKvA, h, m.KvLoraRank + m.QkRopeHeadDim);
                add("attn_kv_a_norm.weight", TensorRole.Norm, m.KvLoraRank);
                add("attn_kv_b.weight", TensorRole.MlaKvB, m.KvLoraRank, heads * (m.QkNopHeadDim + m.VHeadDim));
                add("attn_output.weight", TensorRole.AttentionOutput, heads * m.VHeadDim, h);
                break;
            }

            case AttentionKind.Recurrent:
                AddRecurrent(add, a.Recurrent!, h);
                break;
        }
    }

    private static void AddQkNorm(AddTensor add, AttentionSpec a, long q, long k)
    {
        if (a.QkNorm == QkNormKind.None)
            return;
        long qn = a.QkNorm == QkNormKind.PerHead ? a.KeyHeadDim : q;
        long kn = a.QkNorm == QkNormKind.PerHead ? a.KeyHeadDim : k;
        add("attn_q_norm.weight", TensorRole.Norm, qn);
        add("attn_k_norm.weight", TensorRole.Norm, kn);
        if (a.QkNormBias)
        {
            add("attn_q_norm.bias", TensorRole.Bias, qn);
            add("attn_k_norm.bias", TensorRole.Bias, kn);
        }
    }

    private static void AddRecurrent(AddTensor add, RecurrentSpec r, long h)
    {
        long inner = r.InnerSize, state = r.StateSize, conv = r.ConvKernel;
        switch (r.Kind)
        {
            case RecurrentKind.Mamba:
                add("ssm_in.weight", TensorRole.RecurrentInput, h, 2 * inner);
                if (r.ProjectionBias)
                    add("ssm_in.bias", TensorRole.Bias, 2 * inner);
                add("ssm_conv1d.weight", TensorRole.RecurrentConv, conv, inner);
                if (r.ConvBias)
                    add("ssm_conv1d.bias", TensorRole.Bias, inner);
                add("ssm_x.weight", TensorRole.RecurrentProjection, inner, r.DtRank + 2 * state);
                add("ssm_dt.weight", TensorRole.RecurrentProjection, r.DtRank, inner);
                add("ssm_dt.bias", TensorRole.Bias, inner);
                add("ssm_a", TensorRole.RecurrentState, state, inner);
                add("ssm_d", TensorRole.RecurrentState, inner);
                if (r.InnerNorms)
                {
                    add("ssm_dt_norm.weight", TensorRole.Norm, r.DtRank);
                    add("ssm_b_norm.weight", TensorRole.Norm, state);
                    add("ssm_c_norm.weight", TensorRole.Norm, state);
                }

                add("ssm_out.weight", TensorRole.RecurrentOutput, inner, h);
                if (r.ProjectionBias)
                    add("ssm_out.bias", TensorRole.Bias, h);
                break;

            case RecurrentKind.Mamba2:
            {
                long groups = r.GroupCount, heads = r.HeadCount;
                long convChannels = inner + 2 * groups * state;
                add("ssm_in.weight", TensorRole.RecurrentInput, h, 2 * inner + 2 * groups * state + heads);
                if (r.ProjectionBias)
                    add("ssm_in.bias", TensorRole.Bias, 2 * inner + 2 * groups * state + heads);
                add("ssm_conv1d.weight", TensorRole.RecurrentConv, conv, convChannels);
                if (r.ConvBias)
                    add("ssm_conv1d.bias", TensorRole.Bias, convChannels);
                add("ssm_dt.bias", TensorRole.Bias, heads);
                add("ssm_a", TensorRole.RecurrentState, heads);
                add("ssm_d", TensorRole.RecurrentState, heads);
                add("ssm_norm.weight", TensorRole.Norm, inner);
                add("ssm_out.weight", TensorRole.RecurrentOutput, inner, h);
                if (r.ProjectionBias)
                    add("ssm_out.bias", TensorRole.Bias, h);
                break;
            }

            case RecurrentKind.GatedDeltaNet:
            {
                long keys = (long)r.KeyHeadCount * r.KeyHeadDim, values = (long)r.HeadCount * r.ValueHeadDim;
                // Qwen3-Next linear attention: in_proj_qkvz [h → 2·keys + 2·values], in_proj_ba [h → 2·v_heads],
                // conv1d over q, k, v channels, per-head dt_bias and A_log, gated RMS norm over v_dim, out_proj.
                add("ssm_in.weight", TensorRole.RecurrentInput, h, 2 * keys + 2 * values);
                add("ssm_ba.weight", TensorRole.RecurrentInput, h, 2L * r.HeadCount);
                add("ssm_conv1d.weight", TensorRole.RecurrentConv, conv, 2 * keys + values);
                add("ssm_dt.bias", TensorRole.Bias, r.HeadCount);
                add("ssm_a", TensorRole.RecurrentState, r.HeadCount);
                add("ssm_norm.weight", TensorRole.Norm, r.ValueHeadDim);
                add("ssm_out.weight", TensorRole.RecurrentOutput, values, h);
                break;
            }

            default:
                throw new ModelDescriptionException($"the tensor layout of {r.Kind} layers is not modelled");
        }
    }

    private static void AddMlp(AddTensor add, MlpSpec f, long h)
    {
        switch (f.Kind)
        {
            case MlpKind.Dense:
                if (f.FusedGateUp && f.Gated)
                {
                    add("ffn_up.weight", TensorRole.FfnUp, h, 2L * f.FfnSize);
                    add("ffn_down.weight", TensorRole.FfnDown, f.FfnSize, h);
                    if (f.Bias)
                    {
                        add("ffn_up.bias", TensorRole.Bias, 2L * f.FfnSize);
                        add("ffn_down.bias", TensorRole.Bias, h);
                    }
                }
                else
                {
                    AddFfn(add, "", TensorRole.FfnGate, TensorRole.FfnUp, TensorRole.FfnDown, f.Gated, f.Bias, h, f.FfnSize, 1);
                }

                break;

            case MlpKind.MoE:
                add("ffn_gate_inp.weight", TensorRole.Router, h, f.ExpertCount);
                if (f.RouterBias)
                    add("ffn_gate_inp.bias", TensorRole.RouterBias, f.ExpertCount);
                if (f.RouterScoreCorrectionBias)
                    add("exp_probs_b.bias", TensorRole.RouterBias, f.ExpertCount);
                AddFfn(add, "_exps", TensorRole.ExpertGate, TensorRole.ExpertUp, TensorRole.ExpertDown, f.Gated, f.Bias, h, f.ExpertFfnSize, f.ExpertCount);
                if (f.SharedExpertCount > 0)
                {
                    long shared = (long)f.SharedExpertCount * f.SharedExpertFfnSize;
                    AddFfn(add, "_shexp", TensorRole.SharedExpertGate, TensorRole.SharedExpertUp, TensorRole.SharedExpertDown, f.Gated, false, h, shared, 1);
                }

                if (f.SharedExpertGate)
                    add("ffn_gate_inp_shexp.weight", TensorRole.SharedExpertRouter, h);
                break;
        }
    }

    private static void AddFfn(AddTensor add, string suffix, TensorRole gate, TensorRole up, TensorRole down, bool gated, bool bias, long h, long ffn, long experts)
    {
        if (gated)
            add($"ffn_gate{suffix}.weight", gate, h, ffn, experts);
        add($"ffn_up{suffix}.weight", up, h, ffn, experts);
        add($"ffn_down{suffix}.weight", down, ffn, h, experts);
        if (!bias)
            return;
        if (gated)
            add($"ffn_gate{suffix}.bias", TensorRole.Bias, ffn, 1, experts);
        add($"ffn_up{suffix}.bias", TensorRole.Bias, ffn, 1, experts);
        add($"ffn_down{suffix}.bias", TensorRole.Bias, h, 1, experts);
    }
}
