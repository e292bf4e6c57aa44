using System.Text.Json;
using System.Text.Json.Serialization;

namespace VramFit.Reports;

/// <summary>One formula input as serialized.</summary>
public sealed record InputDocument(string Name, double Value, string Unit);

/// <summary>One memory item as serialized (sizes in bytes).</summary>
public sealed record ItemDocument(
    string Name, string Category, long Bytes, string Formula, IReadOnlyList<InputDocument> Inputs, string? Origin, IReadOnlyList<ItemDocument> Children);

/// <summary>One device of an estimate as serialized: totals per category and the items.</summary>
public sealed record DeviceDocument(
    string Device,
    bool IsAccelerator,
    long CapacityBytes,
    long WeightBytes,
    long KvCacheBytes,
    long RecurrentStateBytes,
    long ActivationBytes,
    long OutputBytes,
    long OverheadBytes,
    long TotalBytes,
    long? HeadroomBytes,
    bool? Fits,
    IReadOnlyList<ItemDocument> Items);

/// <summary>KV-pool capacity of a serving engine as serialized.</summary>
public sealed record CapacityDocument(long KvCacheBytes, long KvCacheTokens, long? GpuBlocks, int? BlockSize, double MaxConcurrency, long? MaxModelLen, string? EngineError);

/// <summary>
/// The stable JSON shape of one estimate (<c>vramfit estimate --json</c>, <c>/api/estimate</c>): camelCase,
/// sizes in bytes. Whole-estimate totals sum the accelerators; <see cref="Host"/> lists host buffers.
/// </summary>
public sealed record EstimateDocument(
    string Model,
    string Engine,
    long Parameters,
    long WeightBytes,
    long KvCacheBytes,
    long ActivationBytes,
    long OverheadBytes,
    long TotalBytes,
    bool? Fits,
    IReadOnlyList<DeviceDocument> Gpus,
    IReadOnlyList<DeviceDocument> Host,
    CapacityDocument? Capacity,
    IReadOnlyList<InputDocument> Settings,
    IReadOnlyList<string> Notes,
    string? LaunchCommand,
    IReadOnlyDictionary<string, double> PrintedFigures,
    EstimateDocument? RuleOfThumb)
{
    /// <summary>Builds the document of <paramref name="report"/>, optionally with the rule-of-thumb report beside it.</summary>
    public static EstimateDocument From(MemoryReport report, MemoryReport? ruleOfThumb = null)
    {
        var gpus = report.Devices.Where(d => d.IsAccelerator).Select(Device).ToList();
        var host = report.Devices.Where(d => !d.IsAccelerator).Select(Device).ToList();
        bool known = report.Accelerators.Any() && report.Accelerators.All(d => d.CapacityBytes > 0);
        return new EstimateDocument(
            report.Model,
            report.Engine,
            report.Parameters,
            gpus.Sum(d => d.WeightBytes),
            gpus.Sum(d => d.KvCacheBytes + d.RecurrentStateBytes),
            gpus.Sum(d => d.ActivationBytes + d.OutputBytes),
            gpus.Sum(d => d.OverheadBytes),
            gpus.Sum(d => d.TotalBytes),
            known ? report.Fits : null,
            gpus,
            host,
            report.Capacity is { } c ? new CapacityDocument(c.KvCacheBytes, c.KvCacheTokens, c.GpuBlocks, c.BlockSize, c.MaxConcurrency, c.MaxModelLen, c.EngineError) : null,
            report.Settings.Select(Input).ToList(),
            report.Notes,
            report.LaunchCommand,
            report.PrintedFigures,
            ruleOfThumb is null ? null : From(ruleOfThumb));
    }

    /// <summary>Serializes with the stable options (camelCase, indented, enums as strings).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJsonContext.Relaxed.EstimateDocument);

    private static DeviceDocument Device(DeviceMemory d) => new(
        d.Device,
        d.IsAccelerator,
        d.CapacityBytes,
        d.BytesOf(MemoryCategory.Weights),
        d.BytesOf(MemoryCategory.KvCache),
        d.BytesOf(MemoryCategory.RecurrentState),
        d.BytesOf(MemoryCategory.Activations),
        d.BytesOf(MemoryCategory.Output),
        d.BytesOf(MemoryCategory.Overhead),
        d.TotalBytes,
        d.CapacityBytes > 0 ? d.HeadroomBytes : null,
        d.IsAccelerator && d.CapacityBytes > 0 ? d.Fits : null,
        d.Items.Select(Item).ToList());

    internal static ItemDocument Item(MemoryItem i) => new(
        i.Name, i.Category.ToString(), i.Bytes, i.Formula, i.Inputs.Select(Input).ToList(), i.Origin, i.Children.Select(Item).ToList());

    private static InputDocument Input(FormulaInput f) => new(f.Name, f.Value, f.Unit);
}

/// <summary>Source-generated JSON metadata for every serialized report type (AOT/trim friendly).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(EstimateDocument))]
[JsonSerializable(typeof(Models.ModelSummary))]
[JsonSerializable(typeof(string))]
public sealed partial class ReportJsonContext : JsonSerializerContext
{
    /// <summary>The same options, writing "Σ" and "×" as themselves instead of \u escapes (output is UTF-8 text, not HTML).</summary>
    public static ReportJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
