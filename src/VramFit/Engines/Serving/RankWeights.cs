using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.Serving;

/// <summary>Which part of a rank's weights a tensor share belongs to (<see cref="RankWeights"/>).</summary>
public enum RankPart
{
    Embedding,
    OutputHead,
    Blocks,
    RoutedExperts,
    Replicated,
}

/// <summary>One checkpoint tensor's share on a rank: the bytes of its slice and which part of the weights it belongs to.</summary>
public readonly record struct RankTensor(WeightTensor Tensor, RankPart Part, long Bytes);

/// <summary>
/// Weight bytes held by one GPU rank of a TP × PP (× EP) layout, itemised: embedding, LM head, the blocks'
/// sharded matrices, routed experts, and the parts every TP rank replicates (norms, routers, row-parallel
/// biases, replicated KV heads when TP exceeds the KV head count, MLA down-projections).
/// </summary>
public readonly record struct RankWeights(long Embedding, long OutputHead, long Blocks, long RoutedExperts, long Replicated, int FirstLayer, int LayerCount)
{
    public long Total => Embedding + OutputHead + Blocks + RoutedExperts + Replicated;

    /// <summary>
    /// Weights of the rank at pipeline stage <paramref name="stage"/> (every TP rank of a stage holds the same
    /// amount up to the remainder of an uneven expert split, which goes to the first ranks: this returns
    /// the largest, i.e. TP rank 0).
    /// </summary>
    public static RankWeights For(ModelProfile profile, ParallelLayout layout, ShardingRules rules, int stage = 0)
    {
        long embedding = 0, head = 0, blocks = 0, experts = 0, replicated = 0;
        var (first, count) = StageLayers(profile.Model, layout, rules, stage);
        foreach (var t in Tensors(profile, layout, rules, stage))
        {
            switch (t.Part)
            {
                case RankPart.Embedding: embedding += t.Bytes; break;
                case RankPart.OutputHead: head += t.Bytes; break;
                case RankPart.RoutedExperts: experts += t.Bytes; break;
                case RankPart.Replicated: replicated += t.Bytes; break;
                default: blocks += t.Bytes; break;
            }
        }

        blocks += VisionEncoderBytes(profile, layout, stage);
        return new RankWeights(embedding, head, blocks, experts, replicated, first, count);
    }

    /// <summary>
    /// A multimodal checkpoint's vision encoder loads with the language model on the first stage, in the dense
    /// dtype (quantization configs skip it: bitsandbytes llm_int8_skip_modules ["visual"], GPTQ/AWQ quantize the
    /// LM only) unless the format quantizes it while loading (<see cref="WeightFormat.QuantizesVisionEncoder"/>:
    /// then at the format's bits per weight, its linear layers being nearly all of it); vLLM shards its linear
    /// layers over TP like the LM's (Qwen2_5_VisionTransformer Column/RowParallelLinear).
    /// </summary>
    public static long VisionEncoderBytes(ModelProfile profile, ParallelLayout layout, int stage)
    {
        long parameters = profile.Model.VisionEncoderParameters;
        if (stage != 0 || parameters <= 0)
            return 0;
        long bytes = profile.Format.QuantizesVisionEncoder
            ? (long)Math.Ceiling(parameters * profile.Format.BitsPerWeight() / 8)
            : parameters * (profile.Format.DenseType.Bits() / 8);
        return CeilDiv(bytes, layout.Tensor);
    }

    /// <summary>The decoder layers [first, first + count) of pipeline stage <paramref name="stage"/>.</summary>
    public static (int First, int Count) StageLayers(ModelDescription model, ParallelLayout layout, ShardingRules rules, int stage) =>
        layout.StageLayers(rules.LoadNextN ? model.Layers.Length : model.RepeatingLayerCount, stage);

    /// <summary>
    /// Each tensor of the language model that the rank at <paramref name="stage"/> (TP rank 0) holds, with the
    /// bytes of its share, in the order of the model's tensor inventory (<see cref="ModelProfile.Tensors"/>).
    /// </summary>
    public static List<RankTensor> Tensors(ModelProfile profile, ParallelLayout layout, ShardingRules rules, int stage = 0)
    {
        var model = profile.Model;
        var format = profile.Format;
        int tp = layout.Tensor;
        var (first, count) = StageLayers(model, layout, rules, stage);
        bool firstStage = stage == 0, lastStage = stage == layout.Pipeline - 1;
        long vocabRows = rules.VocabParallel
            ? RoundUp(model.VocabSize, Math.Max(1, rules.VocabPadding)) / tp
            : model.VocabSize;
        if (rules.VocabParallel && RoundUp(model.VocabSize, Math.Max(1, rules.VocabPadding)) % tp != 0)
            vocabRows++;

        var shares = new List<RankTensor>(profile.Tensors.Length);
        foreach (var t in profile.Tensors)
        {
            if (t.Layer < 0)
            {
                switch (t.Role)
                {
                    case TensorRole.TokenEmbedding when firstStage:
                        shares.Add(new(t, RankPart.Embedding, Scaled(format, t, vocabRows, model.VocabSize)));
                        // Tied embeddings with PP > 1: the last stage has no embedding module and loads its own
                        // LM head from the embedding tensor (vLLM ParallelLMHead on the last PP rank).
                        break;
                    case TensorRole.TokenEmbedding when lastStage && model.TiedEmbeddings:
                    case TensorRole.OutputHead or TensorRole.OutputBias when lastStage:
                        shares.Add(new(t, RankPart.OutputHead, Scaled(format, t, vocabRows, model.VocabSize)));
                        break;
                    case TensorRole.PositionEmbedding when firstStage:
                    case TensorRole.Norm or TensorRole.Bias or TensorRole.Other when lastStage:
                        shares.Add(new(t, RankPart.Replicated, format.Bytes(t)));
                        break;
                }

                continue;
            }

            if (t.Layer < first || t.Layer >= first + count)
                continue;
            var layer = model.Layers[t.Layer];
            shares.Add(Split(t, layer, tp) switch
            {
                Placement.Replicated => new(t, RankPart.Replicated, format.Bytes(t)),
                Placement.Experts => new(t, RankPart.RoutedExperts, ExpertBytes(format, t, layer.Mlp, layout, rules, model.HiddenSize)),
                Placement.Heads => new(t, RankPart.Blocks, HeadShardBytes(format, t, layer.Attention, tp)),
                _ => new(t, RankPart.Blocks, CeilDiv(format.Bytes(t), tp)),
            });
        }

        return shares;
    }

    private enum Placement
    {
        Replicated,
        SplitByTp,
        Heads,
        Experts,
    }

    private static Placement Split(in WeightTensor t, LayerSpec layer, int tp)
    {
        return t.Role switch
        {
            TensorRole.AttentionQuery or TensorRole.AttentionKey or TensorRole.AttentionValue or TensorRole.AttentionQkv
                when layer.Attention.Kind is AttentionKind.Full or AttentionKind.SlidingWindow => Placement.Heads,
            // MLA: q_a_proj and kv_a_proj_with_mqa are ReplicatedLinear in vLLM/SGLang DeepseekV2Attention;
            // q_b_proj / kv_b_proj are column-parallel over heads, o_proj row-parallel.
            TensorRole.MlaQueryA or TensorRole.MlaKvA => Placement.Replicated,
            TensorRole.AttentionQuery or TensorRole.MlaQueryB or TensorRole.MlaKvB or TensorRole.AttentionOutput
                or TensorRole.FfnGate or TensorRole.FfnUp or TensorRole.FfnDown or TensorRole.FfnGateUp
                or TensorRole.SharedExpertGate or TensorRole.SharedExpertUp or TensorRole.SharedExpertDown
                or TensorRole.AttentionSinks or TensorRole.RecurrentInput or TensorRole.RecurrentOutput
                or TensorRole.RecurrentProjection or TensorRole.RecurrentConv or TensorRole.RecurrentState => Placement.SplitByTp,
            TensorRole.ExpertGate or TensorRole.ExpertUp or TensorRole.ExpertDown or TensorRole.ExpertGateUp => Placement.Experts,
            // biases of column-parallel projections are split with them; row-parallel (o_proj, down) biases
            // are added after the all-reduce and replicated
            TensorRole.Bias when ColumnParallelBiasOf(t.Name) is not null => Placement.SplitByTp,
            _ => Placement.Replicated,
        };
    }

    /// <summary>
    /// The merged column-parallel projection a bias belongs to ("qkv_proj" for q/k/v, "gate_up_proj" for gate/up), whose
    /// output rows TP splits; null for the biases added after a row-parallel all-reduce (o_proj, down), which every rank keeps.
    /// </summary>
    internal static string? ColumnParallelBiasOf(string name) =>
        name.Contains(".attn_q.", StringComparison.Ordinal) || name.Contains(".attn_k.", StringComparison.Ordinal)
        || name.Contains(".attn_v.", StringComparison.Ordinal) || name.Contains(".attn_qkv.", StringComparison.Ordinal) ? "qkv_proj"
        : name.Contains(".ffn_gate", StringComparison.Ordinal) || name.Contains(".ffn_up", StringComparison.Ordinal) ? "gate_up_proj"
        : null;

    /// <summary>
    /// Q/K/V shards: query heads are split evenly; KV heads are split while there are at least as many as
    /// TP ranks and replicated otherwise (vLLM <c>QKVParallelLinear</c>: num_kv_head_replicas = tp / kv_heads).
    /// </summary>
    private static long HeadShardBytes(WeightFormat format, in WeightTensor t, AttentionSpec a, int tp)
    {
        if (a.HeadCount % tp != 0)
            throw new InvalidSettingException("tensor_parallel_size",
                $"Total number of attention heads ({a.HeadCount}) must be divisible by tensor parallel size ({tp}).");
        if (a.KvHeadCount >= tp ? a.KvHeadCount % tp != 0 : tp % a.KvHeadCount != 0)
            throw new InvalidSettingException("tensor_parallel_size",
                $"{a.KvHeadCount} KV heads cannot be split or replicated evenly over tensor parallel size {tp}");
        long kvPerRank = Math.Max(1, a.KvHeadCount / tp);
        long qCols = (long)a.HeadCount * a.KeyHeadDim, kCols = (long)a.KvHeadCount * a.KeyHeadDim, vCols = (long)a.KvHeadCount * a.ValueHeadDim;
        long rankRows = t.Role switch
        {
            TensorRole.AttentionQuery => qCols / tp,
            TensorRole.AttentionKey => kvPerRank * a.KeyHeadDim,
            TensorRole.AttentionValue => kvPerRank * a.ValueHeadDim,
            _ => qCols / tp + kvPerRank * (a.KeyHeadDim + a.ValueHeadDim),
        };
        long fullRows = t.Role switch
        {
            TensorRole.AttentionQuery => qCols,
            TensorRole.AttentionKey => kCols,
            TensorRole.AttentionValue => vCols,
            _ => qCols + kCols + vCols,
        };
        return Scaled(format, t, rankRows, fullRows);
    }

    private static long ExpertBytes(WeightFormat format, in WeightTensor t, MlpSpec mlp, ParallelLayout layout, ShardingRules rules, int hidden)
    {
        int ep = layout.ExpertRanks;
        // vLLM determine_expert_map: E // ep experts per rank, the remainder one each to the first ranks.
        long localExperts = CeilDiv(mlp.ExpertCount, ep);
        int tpSplit = layout.ExpertParallel ? 1 : layout.Tensor;
        if (t.Role == TensorRole.Bias || !format.Packs(t) && rules.ExpertIntermediateAlign == 0)
            return CeilDiv(format.Bytes(t) * localExperts / mlp.ExpertCount, tpSplit);

        long inter = CeilDiv(mlp.ExpertFfnSize, tpSplit);
        long h = hidden;
        if (rules.ExpertIntermediateAlign > 0)
            inter = RoundUp(inter, rules.ExpertIntermediateAlign);
        if (rules.ExpertHiddenAlign > 0)
            h = RoundUp(h, rules.ExpertHiddenAlign);
        long matrices = t.Role == TensorRole.ExpertGateUp ? 2 : 1;
        long perExpert = t.Role == TensorRole.ExpertDown
            ? format.PackedMatrixBytes(inter, h)
            : format.PackedMatrixBytes(h, inter * matrices);
        return perExpert * localExperts;
    }

    /// <summary>Bytes of <paramref name="t"/> restricted to <paramref name="rows"/> of its <paramref name="fullRows"/> output rows.</summary>
    private static long Scaled(WeightFormat format, in WeightTensor t, long rows, long fullRows)
    {
        long bytes = format.Bytes(t);
        if (rows == fullRows)
            return bytes;
        return (long)Math.Ceiling(bytes * (double)rows / fullRows);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static long RoundUp(long a, long b) => CeilDiv(a, b) * b;
}
