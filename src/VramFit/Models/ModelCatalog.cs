using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using VramFit.Errors;
using VramFit.Sources.HfConfig;

namespace VramFit.Models;

/// <summary>One built-in model: its Hub id, its config.json as published, and its published size.</summary>
public sealed record CatalogModel
{
    /// <summary>Hugging Face id ("meta-llama/Llama-3.1-8B").</summary>
    public required string Id { get; init; }

    /// <summary>The config.json as published, verbatim.</summary>
    public required JsonElement Config { get; init; }

    /// <summary>Published parameter count (safetensors total_size / bytes per parameter), when published.</summary>
    public long? PublishedParameters { get; init; }

    /// <summary>
    /// Elements the published safetensors count includes beyond the model's logical parameters, each case
    /// explained in <see cref="Source"/>: an lm_head.weight stored although tie_word_embeddings is true
    /// (Qwen3-0.6B, Qwen3-1.7B), a multi-token-prediction module the config does not describe
    /// (Qwen3-Next-80B-A3B), or the fp32 scales of 128×128-block FP8 matrices (DeepSeek-V3/R1).
    /// </summary>
    public long StoredExtraParameters { get; init; }

    /// <summary>Where the config and the count come from.</summary>
    public string? Source { get; init; }

    /// <summary>Other ids that name the same weights (instruct variants, mirrors).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>
    /// The catalog id this entry was derived from when <see cref="Id"/> names a re-upload or a quantized checkpoint
    /// of it (<see cref="CatalogDerivation"/>); null for an entry of the catalog itself.
    /// </summary>
    public string? DerivedFrom { get; init; }

    /// <summary>The description; its source is "catalog", or for a derived entry what the derivation assumed.</summary>
    public ModelDescription Describe() => HfConfigReader.Read(new HfConfig(Config, Id), Id, DerivedFrom is null ? "catalog" : Source);
}

/// <summary>
/// The built-in model catalog, embedded as <c>data/models/*.json</c> (one file per model:
/// <c>{"id", "aliases", "published_parameters", "source", "config"}</c>). Loaded once, on first use.
/// </summary>
public static class ModelCatalog
{
    private static readonly Lazy<IReadOnlyList<CatalogModel>> Models = new(Load);
    private static readonly Lazy<FrozenDictionary<string, CatalogModel>> ById = new(() =>
    {
        var map = new Dictionary<string, CatalogModel>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in Models.Value)
        {
            map[m.Id] = m;
            map.TryAdd(m.Id[(m.Id.IndexOf('/') + 1)..], m);
            foreach (var a in m.Aliases)
            {
                map.TryAdd(a, m);
                map.TryAdd(a[(a.IndexOf('/') + 1)..], m);
            }
        }

        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    });

    public static IReadOnlyList<CatalogModel> All => Models.Value;

    /// <summary>Every catalog name and alias without its organisation, for <see cref="CatalogDerivation"/>.</summary>
    private static readonly Lazy<string[]> Names = new(() => ById.Value.Keys.Where(k => !k.Contains('/', StringComparison.Ordinal)).ToArray());

    /// <summary>How the source of a derived entry's description begins ("catalog entry Qwen/Qwen2.5-7B with …").</summary>
    public const string DerivedSourcePrefix = "catalog entry ";

    /// <summary>
    /// Finds a model by Hub id, by the name after the slash, or by an alias (case-insensitive); failing that, a
    /// re-upload of a catalog model under another organisation or a quantized checkpoint named after one
    /// (<see cref="CatalogDerivation"/>: the entry returned carries the id asked for and says what it assumed).
    /// </summary>
    public static CatalogModel? TryFind(string id)
    {
        var key = (id ?? "").Trim();
        return Exact(key) ?? CatalogDerivation.Derive(key, Exact, Names.Value);
    }

    private static CatalogModel? Exact(string id) => ById.Value.TryGetValue(id, out var m) ? m : null;

    public static CatalogModel Find(string id) => TryFind(id) ?? throw new CatalogLookupException(
        $"'{id}' is not in the model catalog and is not a path; close matches: {string.Join(", ", CloseMatches(id))} (see 'vramfit models')");

    private static IEnumerable<string> CloseMatches(string id)
    {
        var key = new string((id ?? "").ToLowerInvariant().Where(char.IsLetterOrDigit).ToArray());
        var scored = Models.Value
            .Select(m => (m.Id, Score: TextSimilarity.LongestCommonRun(key, new string(m.Id.ToLowerInvariant().Where(char.IsLetterOrDigit).ToArray()))))
            .OrderByDescending(p => p.Score)
            .Take(3)
            .Select(p => p.Id)
            .ToList();
        return scored.Count > 0 ? scored : ["(catalog empty)"];
    }

    private static IReadOnlyList<CatalogModel> Load()
    {
        var assembly = typeof(ModelCatalog).Assembly;
        var list = new List<CatalogModel>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("VramFit.data.models", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var doc = JsonDocument.Parse(stream);
            var r = doc.RootElement;
            list.Add(new CatalogModel
            {
                Id = r.GetProperty("id").GetString()!,
                Config = r.GetProperty("config").Clone(),
                PublishedParameters = r.TryGetProperty("published_parameters", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : null,
                StoredExtraParameters = r.TryGetProperty("stored_extra_parameters", out var x) && x.ValueKind == JsonValueKind.Number ? x.GetInt64() : 0,
                Source = r.TryGetProperty("source", out var s) ? s.GetString() : null,
                Aliases = r.TryGetProperty("aliases", out var a) ? a.EnumerateArray().Select(e => e.GetString()!).ToList() : [],
            });
        }

        return list;
    }
}
