using System.Collections.Immutable;
using System.Globalization;
using VramFit.Errors;

namespace VramFit.Sources.Gguf;

/// <summary>
/// GGUF key/value metadata with typed getters. Values are boxed as the GGUF reader produces them:
/// integers as <see cref="long"/> (or <see cref="ulong"/> above long's range), floats as <see cref="double"/>,
/// <see cref="bool"/>, <see cref="string"/>, and arrays as <see cref="GgufArray"/>. The same class holds
/// metadata given as JSON in validation cases, so the GGUF → model translation has one input type.
/// </summary>
public sealed class GgufMetadata
{
    private readonly ImmutableDictionary<string, object> values;

    public GgufMetadata(IEnumerable<KeyValuePair<string, object>> values)
    {
        this.values = values.ToImmutableDictionary(StringComparer.Ordinal);
    }

    public IEnumerable<string> Keys => values.Keys;

    public int Count => values.Count;

    public bool Has(string key) => values.ContainsKey(key);

    public object? Get(string key) => values.TryGetValue(key, out var v) ? v : null;

    /// <summary>general.architecture, required by every GGUF model file.</summary>
    public string Architecture => GetString("general.architecture")
        ?? throw new ModelDescriptionException("general.architecture: missing from GGUF metadata");

    public string? GetString(string key) => Get(key) as string;

    public long? GetLong(string key) => Get(key) switch
    {
        long l => l,
        ulong u when u <= long.MaxValue => (long)u,
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => (long)d,
        bool b => b ? 1 : 0,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p,
        null => null,
        var other => throw new ModelDescriptionException($"{key}: expected an integer, got {Describe(other)}"),
    };

    public double? GetDouble(string key) => Get(key) switch
    {
        double d => d,
        long l => l,
        ulong u => u,
        null => null,
        var other => throw new ModelDescriptionException($"{key}: expected a number, got {Describe(other)}"),
    };

    public bool? GetBool(string key) => Get(key) switch
    {
        bool b => b,
        long l => l != 0,
        null => null,
        var other => throw new ModelDescriptionException($"{key}: expected a boolean, got {Describe(other)}"),
    };

    public GgufArray? GetArray(string key) => Get(key) switch
    {
        GgufArray a => a,
        null => null,
        var other => throw new ModelDescriptionException($"{key}: expected an array, got {Describe(other)}"),
    };

    /// <summary>
    /// A per-layer integer: either a scalar (same for all layers) or an array of one value per layer
    /// (e.g. <c>head_count_kv</c> of hybrid models). Returns null when absent.
    /// </summary>
    public long[]? GetPerLayer(string key, int layerCount)
    {
        var v = Get(key);
        switch (v)
        {
            case null:
                return null;
            case GgufArray a:
                if (a.Count != layerCount)
                    throw new ModelDescriptionException($"{key}: array has {a.Count} values for {layerCount} layers");
                var result = new long[layerCount];
                for (int i = 0; i < layerCount; i++)
                    result[i] = a.GetLong(i);
                return result;
            default:
                var scalar = GetLong(key)!.Value;
                return Enumerable.Repeat(scalar, layerCount).ToArray();
        }
    }

    private static string Describe(object o) => o switch
    {
        string s => $"string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        GgufArray a => $"array of {a.Count}",
        _ => o.GetType().Name,
    };
}

/// <summary>A GGUF array value: element type name and elements (boxed like scalar values).</summary>
public sealed class GgufArray
{
    public GgufArray(string elementType, IReadOnlyList<object> items)
    {
        ElementType = elementType;
        Items = items;
    }

    /// <summary>GGUF value type of the elements ("uint32", "string", "array" …).</summary>
    public string ElementType { get; }

    public IReadOnlyList<object> Items { get; }

    public int Count => Items.Count;

    public long GetLong(int index) => Items[index] switch
    {
        long l => l,
        ulong u when u <= long.MaxValue => (long)u,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) => (long)d,
        var other => throw new ModelDescriptionException($"array element {index}: expected an integer, got {other.GetType().Name}"),
    };
}
