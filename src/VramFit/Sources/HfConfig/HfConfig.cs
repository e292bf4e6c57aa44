using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Typed, error-naming access to a Hugging Face <c>config.json</c>. Multimodal configs nest the language
/// model under <c>text_config</c>; <see cref="Text"/> returns that part when present.
/// </summary>
public sealed class HfConfig
{
    private readonly JsonElement root;

    public HfConfig(JsonElement root, string? origin = null)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelDescriptionException($"{origin ?? "config.json"}: expected a JSON object");
        this.root = root;
        Origin = origin;
    }

    /// <summary>Parses config.json text; malformed JSON → <see cref="InvalidFileFormatException"/>.</summary>
    public static HfConfig Parse(string json, string? origin = null)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
            return new HfConfig(doc.RootElement.Clone(), origin);
        }
        catch (JsonException e)
        {
            throw new InvalidFileFormatException("config.json", e.BytePositionInLine ?? 0, $"malformed JSON (line {e.LineNumber + 1}): {e.Message}", origin);
        }
    }

    public JsonElement Root => root;

    public string? Origin { get; }

    public string ModelType => String("model_type") ?? throw Missing("model_type");

    /// <summary>The language-model part: <c>text_config</c> (Gemma-3, Qwen2.5-VL, Llama-4 …) or the root.</summary>
    public HfConfig Text => root.TryGetProperty("text_config", out var t) && t.ValueKind == JsonValueKind.Object
        ? new HfConfig(t, Origin)
        : this;

    /// <summary>
    /// A sub-object such as <c>vision_config</c>, or null. Nested configs often omit fields whose
    /// transformers default applies; see <see cref="WithDefaults"/>.
    /// </summary>
    public HfConfig? Section(string key) =>
        root.TryGetProperty(key, out var t) && t.ValueKind == JsonValueKind.Object ? new HfConfig(t, Origin) : null;

    /// <summary>
    /// This config with the given integer defaults filled in where a key is absent or null, as the
    /// transformers config class would (a text_config of a multimodal Gemma-3 omits its head counts).
    /// </summary>
    public HfConfig WithDefaults(params (string Key, int Value)[] defaults)
    {
        var node = JsonNode.Parse(root.GetRawText())!.AsObject();
        foreach (var (key, value) in defaults)
            if (!Has(key))
                node[key] = value;
        using var doc = JsonDocument.Parse(node.ToJsonString());
        return new HfConfig(doc.RootElement.Clone(), Origin);
    }

    public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonElement? Element(string key) =>
        root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string key) => Element(key) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public int? Int(string key)
    {
        if (Element(key) is not { } v)
            return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) && l >= int.MinValue && l <= int.MaxValue)
            return (int)l;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue)
            return (int)d;
        throw new ModelDescriptionException($"{key}: expected an integer, got {v.GetRawText()}");
    }

    public double? Double(string key)
    {
        if (Element(key) is not { } v)
            return null;
        return v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new ModelDescriptionException($"{key}: expected a number, got {v.GetRawText()}");
    }

    public bool? Bool(string key)
    {
        if (Element(key) is not { } v)
            return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelDescriptionException($"{key}: expected true or false, got {v.GetRawText()}"),
        };
    }

    /// <summary>A required integer; a missing field gives an error naming it.</summary>
    public int RequireInt(string key) => Int(key) ?? throw Missing(key);

    /// <summary>The first present key among aliases (e.g. "num_hidden_layers", "n_layer").</summary>
    public int RequireInt(params string[] keys)
    {
        foreach (var k in keys)
            if (Int(k) is { } v)
                return v;
        throw Missing(string.Join(" / ", keys));
    }

    public int? FirstInt(params string[] keys)
    {
        foreach (var k in keys)
            if (Int(k) is { } v)
                return v;
        return null;
    }

    /// <summary>An integer array (e.g. <c>layer_types</c> flags); null when absent.</summary>
    public int[]? IntArray(string key)
    {
        if (Element(key) is not { ValueKind: JsonValueKind.Array } v)
            return null;
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i)
            ? i
            : throw new ModelDescriptionException($"{key}: expected integers, got {e.GetRawText()}")).ToArray();
    }

    /// <summary>A string array (e.g. <c>layer_types</c>); null when absent.</summary>
    public string[]? StringArray(string key)
    {
        if (Element(key) is not { ValueKind: JsonValueKind.Array } v)
            return null;
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new ModelDescriptionException($"{key}: expected strings, got {e.GetRawText()}")).ToArray();
    }

    /// <summary>torch_dtype (or dtype in newer transformers); bfloat16 when absent.</summary>
    public ScalarType Dtype
    {
        get
        {
            var name = String("torch_dtype") ?? String("dtype");
            if (name is null)
                return ScalarType.BF16;
            return ScalarTypes.TryParse(name, out var t)
                ? t
                : throw new ModelDescriptionException($"torch_dtype: unknown dtype '{name}'");
        }
    }

    public ModelDescriptionException Missing(string key) =>
        new($"{(Origin is null ? "" : Origin + ": ")}{key}: missing from config.json");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"HfConfig({String("model_type")})");
}
