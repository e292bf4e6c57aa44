using System.Collections.Immutable;
using System.Globalization;
using VramFit.Errors;

namespace VramFit.Engines;

/// <summary>
/// An engine's own settings, by the engine's own option names in long form with '-' written '_'
/// (llama.cpp <c>ctx_size</c>, vLLM <c>gpu_memory_utilization</c>) — the same names the validation case
/// format uses. Values are kept as text and converted by typed getters that name the setting on error.
/// </summary>
public sealed class EngineSettings
{
    private readonly ImmutableDictionary<string, string> values;

    public EngineSettings(IEnumerable<KeyValuePair<string, string>>? values = null)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in values ?? [])
            builder[Normalize(k)] = v;
        this.values = builder.ToImmutable();
    }

    public static EngineSettings Empty { get; } = new();

    public IEnumerable<string> Keys => values.Keys;

    public IReadOnlyDictionary<string, string> Values => values;

    public bool Has(string name) => values.ContainsKey(name);

    /// <summary>Returns a copy with <paramref name="name"/> set (overrides an existing value).</summary>
    public EngineSettings With(string name, string value) => new(values.SetItem(Normalize(name), value));

    /// <summary>Returns a copy with <paramref name="name"/> set only when it is not set yet.</summary>
    public EngineSettings WithDefault(string name, string? value) =>
        value is null || Has(Normalize(name)) ? this : With(name, value);

    public string? GetString(string name) => values.TryGetValue(name, out var v) ? v : null;

    public long GetLong(string name, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!values.TryGetValue(name, out var text))
            return fallback;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e18)
                v = (long)d;
            else
                throw new InvalidSettingException(name, $"'{text}' is not a whole number");
        }

        if (v < min || v > max)
            throw new InvalidSettingException(name, $"{v} is out of range [{min}, {max}]");
        return v;
    }

    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetLong(name, fallback, min, max);

    public double GetDouble(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        if (!values.TryGetValue(name, out var text))
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v))
            throw new InvalidSettingException(name, $"'{text}' is not a number");
        if (v < min || v > max)
            throw new InvalidSettingException(name, $"{v.ToString(CultureInfo.InvariantCulture)} is out of range [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
        return v;
    }

    public bool GetBool(string name, bool fallback)
    {
        if (!values.TryGetValue(name, out var text))
            return fallback;
        return text.Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "on" or "yes" or "" => true,
            "false" or "0" or "off" or "no" => false,
            // llama.cpp's --flash-attn takes on|off|auto since 2025-08; auto means "on where supported"
            "auto" => true,
            _ => throw new InvalidSettingException(name, $"'{text}' is not a boolean (true/false, on/off)"),
        };
    }

    /// <summary>Throws for a setting that this engine does not know, naming the ones it does.</summary>
    public void EnsureKnown(string engine, IReadOnlyCollection<string> known)
    {
        foreach (var k in values.Keys)
            if (!known.Contains(k))
                throw new InvalidSettingException(k, $"not a {engine} setting; known: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
    }

    private static string Normalize(string name) => name.Trim().TrimStart('-').Replace('-', '_');
}
