using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Performance;

/// <summary>
/// What one token costs a model in FLOPs and bytes, independent of the hardware, the KV dtype and the split:
/// folded once from a <see cref="ModelProfile"/> so that <see cref="PerformanceModel.With"/> can re-price the same
/// model on other layouts without walking its tensors again. KV is kept in elements; the KV dtype multiplies.
/// </summary>
internal sealed class ModelCosts
{
    /// <summary>llama.cpp keeps recurrent conv/SSM state in F32 (llama-memory-recurrent: type_r/type_s = F32).</summary>
    private const double RecurrentStateBytes = 4;

    // linear-layer FLOPs per token through the blocks, split into dense (always run) and routed experts
    public readonly double DenseLinearFlopsPerToken;
    public readonly double ExpertLinearFlopsPerToken;
    public readonly double HeadFlopsPerSample;

    // attention FLOPs per (query, key) pair: full-context layers, and one group per sliding window
    public readonly double AttnPrefillFlopsPerPair;
    public readonly double AttnDecodeFlopsPerPair;
    public readonly int[] Windows;
    public readonly double[] WindowPrefillFlopsPerPair;
    public readonly double[] WindowDecodeFlopsPerPair;
    public readonly double[] WindowKvElementsPerToken;
    public readonly double KvElementsPerToken;

    // weights read once per step: dense part, and routed experts grouped by (experts, top-k)
    public readonly double DenseWeightBytes;
    public readonly int[] MoeExperts;
    public readonly int[] MoeTopK;
    public readonly double[] MoeBytesPerExpert;

    public readonly double ActivationBytesPerToken;
    public readonly double RecurrentBytesPerSequence;
    public readonly double HiddenBytesPerToken;
    public readonly int Layers;

    public ModelCosts(ModelProfile profile)
    {
        var model = profile.Model;
        double actBytes = profile.Format.DenseType == ScalarType.F32 ? 4 : 2;
        var windows = new List<int>();
        var wPrefill = new List<double>();
        var wDecode = new List<double>();
        var wKv = new List<double>();
        var moe = new List<(int E, int K, double Bytes)>();
        foreach (var t in profile.Tensors)
        {
            bool inBlock = t.Layer >= 0;
            if (inBlock && model.Layers[t.Layer].IsNextN)
                continue;
            double bytes = profile.Format.Bytes(t);
            switch (t.Role)
            {
                case TensorRole.TokenEmbedding or TensorRole.PositionEmbedding:
                    // a lookup reads one row per token; a tied head multiplies by the whole matrix
                    if (t.Role == TensorRole.TokenEmbedding && model.TiedEmbeddings)
                    {
                        HeadFlopsPerSample += 2.0 * t.Elements;
                        DenseWeightBytes += bytes;
                    }

                    break;
                case TensorRole.OutputHead or TensorRole.OutputBias:
                    HeadFlopsPerSample += 2.0 * t.Elements;
                    DenseWeightBytes += bytes;
                    break;
                default:
                    if (inBlock && t.Experts > 1)
                    {
                        var mlp = model.Layers[t.Layer].Mlp;
                        ExpertLinearFlopsPerToken += 2.0 * (t.Elements / t.Experts) * mlp.ActiveExpertCount;
                        moe.Add((mlp.ExpertCount, mlp.ActiveExpertCount, bytes / t.Experts));
                    }
                    else
                    {
                        DenseLinearFlopsPerToken += 2.0 * t.Elements;
                        DenseWeightBytes += bytes;
                    }

                    break;
            }
        }

        foreach (var layer in model.Layers)
        {
            if (layer.IsNextN)
                continue;
            Layers++;
            var a = layer.Attention;
            var f = layer.Mlp;
            double ffnActive = f.Kind switch
            {
                MlpKind.Dense => f.FfnSize,
                MlpKind.MoE => (double)f.ActiveExpertCount * f.ExpertFfnSize + (double)f.SharedExpertCount * f.SharedExpertFfnSize,
                _ => 0,
            };
            // residual stream read and written around both sub-blocks, FFN intermediate written and read
            ActivationBytesPerToken += (4.0 * model.HiddenSize + 2.0 * ffnActive) * actBytes;
            switch (a.Kind)
            {
                case AttentionKind.Full:
                    AttnPrefillFlopsPerPair += 2.0 * a.HeadCount * (a.KeyHeadDim + a.ValueHeadDim);
                    AttnDecodeFlopsPerPair += 2.0 * a.HeadCount * (a.KeyHeadDim + a.ValueHeadDim);
                    KvElementsPerToken += a.KeyElementsPerToken + a.ValueElementsPerToken;
                    break;
                case AttentionKind.SlidingWindow:
                {
                    int g = windows.IndexOf(a.SlidingWindow);
                    if (g < 0)
                    {
                        windows.Add(a.SlidingWindow);
                        wPrefill.Add(0);
                        wDecode.Add(0);
                        wKv.Add(0);
                        g = windows.Count - 1;
                    }

                    double pair = 2.0 * a.HeadCount * (a.KeyHeadDim + a.ValueHeadDim);
                    wPrefill[g] += pair;
                    wDecode[g] += pair;
                    wKv[g] += a.KeyElementsPerToken + a.ValueElementsPerToken;
                    break;
                }

                case AttentionKind.Mla:
                {
                    var m = a.Mla!;
                    // prefill expands the latent: QK over nope+rope dims, AV over v dims per head;
                    // decode absorbs W_UK/W_UV and attends in latent space (DeepSeek-V2 paper §2.1.2; vLLM MLA backend)
                    AttnPrefillFlopsPerPair += 2.0 * a.HeadCount * (m.QkNopHeadDim + m.QkRopeHeadDim + m.VHeadDim);
                    AttnDecodeFlopsPerPair += 2.0 * a.HeadCount * (2.0 * m.KvLoraRank + m.QkRopeHeadDim);
                    KvElementsPerToken += m.LatentElementsPerToken;
                    break;
                }

                case AttentionKind.Recurrent:
                    var r = a.Recurrent!;
                    RecurrentBytesPerSequence += 2.0 * (r.ConvStateElements + r.SsmStateElements) * RecurrentStateBytes;
                    break;
            }
        }

        Windows = [.. windows];
        WindowPrefillFlopsPerPair = [.. wPrefill];
        WindowDecodeFlopsPerPair = [.. wDecode];
        WindowKvElementsPerToken = [.. wKv];

        // experts of layers with the same (count, top-k) share one touched-experts formula: sum their bytes
        var groups = moe.GroupBy(x => (x.E, x.K)).ToArray();
        MoeExperts = [.. groups.Select(g => g.Key.E)];
        MoeTopK = [.. groups.Select(g => g.Key.K)];
        MoeBytesPerExpert = [.. groups.Select(g => g.Sum(x => x.Bytes))];
        HiddenBytesPerToken = model.HiddenSize * actBytes;
    }
}
