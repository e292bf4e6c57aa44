using System.Text.Json;
using System.Text.Json.Serialization;
using VramFit.Errors;

namespace VramFit.Models;

/// <summary>One row of <c>vramfit models</c>: a catalog model as VramFit translates it.</summary>
/// <param name="Parameters">Language-model parameters (every tensor of <see cref="TensorInventory"/>).</param>
/// <param name="VisionParameters">Vision tower and projector of a multimodal checkpoint; 0 otherwise.</param>
/// <param name="KvBytesPerToken16Bit">
/// KV cache bytes per token at 16 bits summed over every layer that owns a cache, before any sliding-window
/// cap; MLA layers count their latent (kv_lora_rank + rope dim), as <see cref="ModelSummary.KvElementsPerToken"/>.
/// </param>
public sealed record CatalogListing(
    string Id,
    string Architecture,
    long Parameters,
    long VisionParameters,
    long? PublishedParameters,
    int Layers,
    int MaxContext,
    long KvBytesPerToken16Bit,
    bool IsMoE,
    string WeightFormat,
    IReadOnlyList<string> Aliases)
{
    /// <summary>
    /// Every catalog model, or those of one family: an exact <c>model_type</c> ("qwen3_moe") or a prefix
    /// of it ("qwen3" lists qwen3, qwen3_moe and qwen3_next). An unknown family names the known ones.
    /// </summary>
    public static IReadOnlyList<CatalogListing> List(string? family = null)
    {
        var rows = ModelCatalog.All.Select(Of).ToList();
        if (string.IsNullOrWhiteSpace(family))
            return rows;
        var f = family.Trim();
        var matching = rows.Where(r => r.Architecture.StartsWith(f, StringComparison.OrdinalIgnoreCase)).ToList();
        return matching.Count > 0
            ? matching
            : throw new CatalogLookupException(
                $"no catalog model of family '{f}'; families: {string.Join(", ", rows.Select(r => r.Architecture).Distinct().Order(StringComparer.Ordinal))}");
    }

    /// <summary>The listing row of one catalog entry.</summary>
    public static CatalogListing Of(CatalogModel entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var model = entry.Describe();
        var profile = ModelProfile.Create(model);
        long kv = 0;
        foreach (var layer in model.Layers)
            kv += ModelSummary.KvElementsPerToken(layer) * 2;
        return new CatalogListing(
            entry.Id, model.Architecture, profile.Parameters, model.VisionEncoderParameters, entry.PublishedParameters,
            model.RepeatingLayerCount, model.MaxContext, kv, model.IsMoE, profile.Format.Name, entry.Aliases);
    }

    /// <summary>The rows as camelCase JSON (sizes in bytes).</summary>
    public static string ToJson(IReadOnlyList<CatalogListing> rows) => JsonSerializer.Serialize(rows, CatalogJsonContext.Default.IReadOnlyListCatalogListing);
}

/// <summary>Source-generated JSON metadata for the catalog listing.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IReadOnlyList<CatalogListing>))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
