using System.Globalization;
using VramFit.Numerics;

namespace VramFit.Models;

/// <summary>Bytes of one storage type in a checkpoint ("bf16", "q4_K", "gptq-int4 packed").</summary>
public sealed record TypeBytes(string Type, long Bytes, long Parameters);

/// <summary>A run of consecutive layers with the same layout ("0–4: sliding window 1024, dense FFN 8192").</summary>
public sealed record LayerRun(int First, int Last, string Attention, string Mlp, long KvElementsPerToken);

/// <summary>Mixture-of-experts shape of a model.</summary>
public sealed record MoeSummary(int MoeLayers, int Experts, int ActiveExperts, int SharedExperts, int ExpertFfnSize, long RoutedExpertParameters);

/// <summary>
/// What <c>vramfit inspect</c> shows of a model: identity, exact parameters (total and active per token),
/// weight bytes by storage type, the per-layer attention layout, and the KV cache per token. Derived from a
/// <see cref="ModelDescription"/> (and its <see cref="Checkpoint"/> when a real file was read).
/// </summary>
public sealed record ModelSummary(
    string Name,
    string Architecture,
    string? Source,
    long Parameters,
    long ActiveParameters,
    string WeightFormat,
    long WeightBytes,
    IReadOnlyList<TypeBytes> BytesByType,
    int Layers,
    int HiddenSize,
    int VocabSize,
    int MaxContext,
    bool TiedEmbeddings,
    IReadOnlyList<LayerRun> LayerLayout,
    long KvBytesPerToken16Bit,
    long RecurrentStateBytesPerSequence,
    MoeSummary? Moe)
{
    /// <summary>Summarizes <paramref name="model"/> stored in <paramref name="format"/> (default: as the checkpoint is).</summary>
    public static ModelSummary Of(ModelDescription model, WeightFormat? format = null)
    {
        var profile = ModelProfile.Create(model, format);
        long routed = 0;
        var byType = new Dictionary<string, (long Bytes, long Params)>(StringComparer.Ordinal);
        foreach (var t in profile.Tensors)
        {
            if (t.IsRoutedExpert)
                routed += t.Elements;
            string type = profile.Format.Packs(t) ? profile.Format.Name : profile.Format.DenseType.DisplayName();
            var (b, p) = byType.GetValueOrDefault(type);
            byType[type] = (b + profile.Format.Bytes(t), p + t.Elements);
        }

        IReadOnlyList<TypeBytes> types = model.Checkpoint is { } checkpoint
            ? checkpoint.Tensors.GroupBy(t => t.Type, StringComparer.Ordinal)
                .Select(g => new TypeBytes(g.Key, g.Sum(t => t.Bytes), g.Sum(t => t.LogicalParameters)))
                .OrderByDescending(t => t.Bytes).ToList()
            : byType.Select(kv => new TypeBytes(kv.Key, kv.Value.Bytes, kv.Value.Params)).OrderByDescending(t => t.Bytes).ToList();

        MoeSummary? moe = null;
        var moeLayers = model.Layers.Where(l => l.Mlp.Kind == MlpKind.MoE).ToList();
        long active = profile.Parameters;
        if (moeLayers.Count > 0)
        {
            var f = moeLayers[0].Mlp;
            moe = new MoeSummary(moeLayers.Count, f.ExpertCount, f.ActiveExpertCount, f.SharedExpertCount, f.ExpertFfnSize, routed);
            // only top-k of the routed experts run per token
            long inactive = 0;
            foreach (var l in model.Layers)
                if (l.Mlp.Kind == MlpKind.MoE)
                    inactive += (long)(l.Mlp.ExpertCount - l.Mlp.ActiveExpertCount) * l.Mlp.ExpertFfnSize * model.HiddenSize * l.Mlp.MatricesPerFfn;
            active -= inactive;
        }

        long kvPerToken = 0, state = 0;
        foreach (var l in model.Layers)
        {
            kvPerToken += KvElementsPerToken(l) * 2;
            if (l.OwnsRecurrentState)
                state += (l.Attention.Recurrent!.ConvStateElements + l.Attention.Recurrent.SsmStateElements) * 4; // f32 state
        }

        return new ModelSummary(
            model.Name, model.Architecture, model.Source, profile.Parameters, active, profile.Format.Name,
            model.Checkpoint?.TotalBytes ?? profile.TotalWeightBytes, types, model.Layers.Length, model.HiddenSize, model.VocabSize,
            model.MaxContext, model.TiedEmbeddings, Runs(model), kvPerToken, state, moe);
    }

    /// <summary>
    /// Elements one layer caches per token in a latent-aware engine: kv_heads × (d_k + d_v), or the MLA latent
    /// (kv_lora_rank + rope dim); 0 for recurrent layers, NextN blocks and layers sharing another's cache.
    /// </summary>
    public static long KvElementsPerToken(LayerSpec layer) => !layer.OwnsKvCache ? 0 : layer.Attention.Kind switch
    {
        AttentionKind.Mla => layer.Attention.Mla!.LatentElementsPerToken,
        _ => layer.Attention.KeyElementsPerToken + layer.Attention.ValueElementsPerToken,
    };

    private static List<LayerRun> Runs(ModelDescription model)
    {
        var runs = new List<LayerRun>();
        for (int i = 0; i < model.Layers.Length;)
        {
            var (attention, mlp) = Describe(model.Layers[i]);
            int j = i;
            while (j + 1 < model.Layers.Length && Describe(model.Layers[j + 1]) == (attention, mlp))
                j++;
            runs.Add(new LayerRun(i, j, attention, mlp, KvElementsPerToken(model.Layers[i])));
            i = j + 1;
        }

        return runs;
    }

    private static (string Attention, string Mlp) Describe(LayerSpec layer)
    {
        var a = layer.Attention;
        string attention = a.Kind switch
        {
            AttentionKind.Full => $"full attention {a.HeadCount}q/{a.KvHeadCount}kv × {a.KeyHeadDim}",
            AttentionKind.SlidingWindow => $"sliding window {a.SlidingWindow}, {a.HeadCount}q/{a.KvHeadCount}kv × {a.KeyHeadDim}",
            AttentionKind.Mla => $"MLA {a.HeadCount} heads, kv_lora_rank {a.Mla!.KvLoraRank} + rope {a.Mla.QkRopeHeadDim}",
            AttentionKind.Recurrent => $"recurrent {a.Recurrent!.Kind} inner {a.Recurrent.InnerSize}, state {a.Recurrent.StateSize}",
            _ => "no attention",
        };
        if (layer.IsNextN)
            attention = "NextN/MTP: " + attention;
        if (layer.SharesKvCache)
            attention += " (shares an earlier layer's KV)";
        var f = layer.Mlp;
        string mlp = f.Kind switch
        {
            MlpKind.Dense => string.Create(CultureInfo.InvariantCulture, $"dense FFN {f.FfnSize}{(f.Gated ? " gated" : "")}"),
            MlpKind.MoE => string.Create(CultureInfo.InvariantCulture, $"MoE {f.ActiveExpertCount}/{f.ExpertCount} experts × {f.ExpertFfnSize}{(f.SharedExpertCount > 0 ? $" + {f.SharedExpertCount} shared × {f.SharedExpertFfnSize}" : "")}"),
            _ => "no FFN",
        };
        return (attention, mlp);
    }
}
