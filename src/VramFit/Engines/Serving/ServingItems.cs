using System.Collections.Immutable;
using VramFit.Reports;

namespace VramFit.Engines.Serving;

/// <summary>Builds the report items every serving engine shows per rank, so their names and formulas agree.</summary>
public static class ServingItems
{
    public const double Gib = 1L << 30;

    /// <summary>The weights of a rank, itemised; <paramref name="extra"/> adds what the engine holds beyond the tensors (those of 0 bytes are left out).</summary>
    public static MemoryItem Weights(RankWeights w, string device, string formatName, string origin, params ReadOnlySpan<MemoryItem> extra)
    {
        var item = TensorWeights(w, device, formatName, origin);
        var children = item.Children.ToBuilder();
        long bytes = item.Bytes;
        foreach (var e in extra)
        {
            if (e.Bytes == 0)
                continue;
            children.Add(e);
            bytes += e.Bytes;
        }

        return item with { Bytes = bytes, Children = children.ToImmutable() };
    }

    /// <summary>The rotary cos/sin tables a PyTorch engine creates with the attention layers (<see cref="TorchWeights"/>).</summary>
    public static MemoryItem RotaryTables(long bytes, int dtypeBytes, string device, string origin) =>
        Item("rotary cos/sin table", MemoryCategory.Weights, bytes, device,
            "positions (max_position_embeddings, stretched by linear/dynamic/YaRN rope scaling) × rotary dims × dtype bytes, per distinct (dims, base, positions)",
            origin, new FormulaInput("dtype bytes", dtypeBytes));

    private static MemoryItem TensorWeights(RankWeights w, string device, string formatName, string origin) => new()
    {
        Name = "weights",
        Category = MemoryCategory.Weights,
        Bytes = w.Total,
        Device = device,
        Formula = "embedding/TP + LM head/TP (last stage) + sharded block matrices/TP + routed experts/EP + replicated parts",
        Inputs = [new("layers on this rank", w.LayerCount), new("first layer", w.FirstLayer)],
        Origin = origin,
        Children =
        [
            Part("token embedding", w.Embedding, device, formatName),
            Part("LM head", w.OutputHead, device, formatName),
            Part("sharded block matrices", w.Blocks, device, formatName),
            Part("routed experts", w.RoutedExperts, device, formatName),
            Part("replicated (norms, routers, row-parallel biases)", w.Replicated, device, formatName),
        ],
    };

    public static MemoryItem Item(string name, MemoryCategory category, long bytes, string device, string formula, string origin, params FormulaInput[] inputs) => new()
    {
        Name = name,
        Category = category,
        Bytes = bytes,
        Device = device,
        Formula = formula,
        Inputs = [.. inputs],
        Origin = origin,
    };

    /// <summary>A figure in GiB rounded to the two decimals engines print.</summary>
    public static double GiB2(long bytes) => Math.Round(bytes / Gib, 2);

    /// <summary>A figure in GiB with four decimals ("Model loading took 14.2488 GiB").</summary>
    public static double GiB4(long bytes) => Math.Round(bytes / Gib, 4);

    private static MemoryItem Part(string name, long bytes, string device, string formatName) => new()
    {
        Name = name,
        Category = MemoryCategory.Weights,
        Bytes = bytes,
        Device = device,
        Formula = $"tensor bytes under {formatName}, this rank's share",
        Children = ImmutableArray<MemoryItem>.Empty,
    };
}
