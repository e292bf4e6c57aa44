using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.Serving;

/// <summary>
/// Caches the <see cref="ModelProfile"/> of a model under a weight format, so the planner's repeated
/// serving estimates over one model (thousands of TP/utilization/length combinations) derive its tensor
/// inventory once. Keyed weakly by the model instance: descriptions are immutable, so identity is enough.
/// </summary>
public static class ServingProfiles
{
    private static readonly ConditionalWeakTable<ModelDescription, ConcurrentDictionary<WeightFormat, ModelProfile>> Cache = new();

    private static readonly ConditionalWeakTable<ModelProfile, ConcurrentDictionary<(ParallelLayout, ShardingRules, int), RankWeights>> Shards = new();

    private static readonly ConditionalWeakTable<ModelProfile, ConcurrentDictionary<(ParallelLayout, ShardingRules, int, int), TorchWeights>> TorchShards = new();

    public static ModelProfile Get(ModelDescription model, WeightFormat format) =>
        Cache.GetValue(model, _ => new ConcurrentDictionary<WeightFormat, ModelProfile>())
            .GetOrAdd(format, f => ModelProfile.Create(model, f));

    /// <summary>The cached <see cref="RankWeights"/> of a stage; the planner revisits the same layouts often.</summary>
    public static RankWeights Weights(ModelProfile profile, ParallelLayout layout, ShardingRules rules, int stage = 0) =>
        Shards.GetValue(profile, _ => new ConcurrentDictionary<(ParallelLayout, ShardingRules, int), RankWeights>())
            .GetOrAdd((layout, rules, stage), key => RankWeights.For(profile, key.Item1, key.Item2, key.Item3));

    /// <summary>The cached <see cref="Serving.TorchWeights"/> of a stage (one allocator simulation per layout).</summary>
    public static TorchWeights TorchWeights(ModelProfile profile, ParallelLayout layout, ShardingRules rules, int stage, int bufferDtypeBytes) =>
        TorchShards.GetValue(profile, _ => new ConcurrentDictionary<(ParallelLayout, ShardingRules, int, int), TorchWeights>())
            .GetOrAdd((layout, rules, stage, bufferDtypeBytes), key => Serving.TorchWeights.For(profile, key.Item1, key.Item2, key.Item3, key.Item4));
}
