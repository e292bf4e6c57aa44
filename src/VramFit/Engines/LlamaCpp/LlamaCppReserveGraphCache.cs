using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using VramFit.Models;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// Reserve-graph allocations per model and shape. Building and allocating the graph of an 80-layer model takes tens
/// of microseconds; the planner asks for the same few shapes of one model over and over, so each is simulated once.
/// </summary>
internal static class LlamaCppReserveGraphCache
{
    /// <summary>The oldest mainline build whose graph the builder reproduces (the graphs were checked against
    /// b10221; the KV-cache attention rotation appeared shortly before). Older builds keep the phase model.</summary>
    public const int FirstBuild = 8000;

    /// <summary>CPU buffer type alignment: TENSOR_ALIGNMENT (ggml/src/ggml-backend.cpp) = 32 bytes.</summary>
    private const long CpuAlignment = 32;

    private static readonly ConditionalWeakTable<ModelDescription, ConcurrentDictionary<LlamaCppReserveShape, GgmlAllocation>> Cache = [];

    public static GgmlAllocation Allocate(ModelDescription model, LlamaCppReserveShape shape)
    {
        var perModel = Cache.GetOrCreateValue(model);
        if (perModel.TryGetValue(shape, out var hit))
            return hit;
        var allocation = new GgmlGraphAllocator(CpuAlignment).Allocate(LlamaCppReserveGraph.Build(model, shape));
        perModel.TryAdd(shape, allocation);
        return allocation;
    }
}
