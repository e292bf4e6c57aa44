using System.Collections.Immutable;
using System.Text.Json;
using VramFit.Errors;
using VramFit.Sources.Gguf;

namespace VramFit.Validation;

/// <summary>Reads the JSONL validation case format (shared/validation/SCHEMA.md).</summary>
public static class ValidationCaseReader
{
    /// <summary>Reads every case of a .jsonl file; blank lines are ignored, a malformed line is an error naming it.</summary>
    public static IReadOnlyList<ValidationCase> ReadFile(string path)
    {
        string[] lines;
        try
        {
            lines = System.IO.File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VramFitException($"{path}: {e.Message}", e);
        }

        return Read(lines, path);
    }

    /// <summary>Reads cases from lines of JSON.</summary>
    public static IReadOnlyList<ValidationCase> Read(IEnumerable<string> lines, string? file = null)
    {
        var cases = new List<ValidationCase>();
        int n = 0;
        foreach (var line in lines)
        {
            n++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            cases.Add(ParseLine(line, file, n));
        }

        return cases;
    }

    /// <summary>Parses one case line.</summary>
    public static ValidationCase ParseLine(string line, string? file = null, int lineNumber = 1)
    {
        string where = $"{file ?? "cases"}:{lineNumber}";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidFileFormatException("validation case JSON", e.BytePositionInLine ?? 0, e.Message.Split('.')[0], where);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidFileFormatException("validation case JSON", 0, "a case must be a JSON object", where);
            string id = Str(root, "id") ?? throw new InvalidFileFormatException("validation case JSON", 0, "missing \"id\"", where);
            string engine = Str(root, "engine") ?? throw new InvalidFileFormatException("validation case JSON", 0, $"case {id}: missing \"engine\"", where);
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            return new ValidationCase
            {
                Id = id,
                Engine = engine,
                EngineVersion = Str(root, "engine_version"),
                Source = Str(root, "source"),
                Notes = Str(root, "notes"),
                Gpu = root.TryGetProperty("gpu", out var g) && g.ValueKind == JsonValueKind.Object
                    ? new CaseGpu(Str(g, "name"), Long(g, "count") is { } c ? (int)c : null, Long(g, "total_mib"))
                    {
                        FreeMib = Long(g, "free_mib") ?? AvailableBeforeWeightsMib(root),
                        FreeAfterEngineInit = Long(g, "free_mib") is null && AvailableBeforeWeightsMib(root) is not null,
                        Backend = Str(g, "backend"),
                    }
                    : null,
                Gguf = model.ValueKind == JsonValueKind.Object && model.TryGetProperty("gguf", out var gg) && gg.ValueKind == JsonValueKind.Object ? Metadata(gg) : null,
                GgufFile = model.ValueKind == JsonValueKind.Object ? Str(model, "gguf_file") : null,
                HfConfig = model.ValueKind == JsonValueKind.Object && model.TryGetProperty("hf_config", out var hc) && hc.ValueKind == JsonValueKind.Object ? hc.Clone() : null,
                HfId = model.ValueKind == JsonValueKind.Object ? Str(model, "hf_id") : null,
                GgufFileType = model.ValueKind == JsonValueKind.Object ? Str(model, "gguf_file_type") : null,
                FileSizeBytes = model.ValueKind == JsonValueKind.Object ? Long(model, "file_size_bytes") : null,
                Params = root.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object ? Settings(p) : [],
                Observed = root.TryGetProperty("observed", out var o) && o.ValueKind == JsonValueKind.Object ? Flatten(o) : [],
                File = file,
                Line = lineNumber,
            };
        }
    }

    /// <summary>
    /// Flattens observed figures: nested objects join with '.', list items get "[i]", numbers only
    /// ("kv_buffer_mib.CUDA0[1]", "memory_breakdown_mib.CUDA0.model").
    /// </summary>
    public static ImmutableArray<ObservedFigure> Flatten(JsonElement observed)
    {
        var list = ImmutableArray.CreateBuilder<ObservedFigure>();
        void Walk(JsonElement e, string name)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Number:
                    list.Add(new ObservedFigure(name, e.GetDouble()));
                    break;
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                        Walk(p.Value, name.Length == 0 ? p.Name : $"{name}.{p.Name}");
                    break;
                case JsonValueKind.Array:
                    int i = 0;
                    foreach (var item in e.EnumerateArray())
                        Walk(item, $"{name}[{i++}]");
                    break;
            }
        }

        Walk(observed, "");
        return list.ToImmutable();
    }

    /// <summary>GGUF metadata from a JSON object: integers as long, other numbers as double, arrays as <see cref="GgufArray"/>.</summary>
    public static GgufMetadata Metadata(JsonElement gguf)
    {
        var values = new List<KeyValuePair<string, object>>();
        foreach (var p in gguf.EnumerateObject())
            if (Value(p.Value) is { } v)
                values.Add(new(p.Name, v));
        return new GgufMetadata(values);
    }

    private static object? Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => Array(e),
        _ => null,
    };

    private static GgufArray Array(JsonElement e)
    {
        var items = new List<object>();
        foreach (var item in e.EnumerateArray())
            if (Value(item) is { } v)
                items.Add(v);
        string type = items.Count == 0 ? "uint32" : items[0] switch
        {
            long => "int64",
            double => "float64",
            bool => "bool",
            string => "string",
            _ => "array",
        };
        return new GgufArray(type, items);
    }

    private static ImmutableArray<KeyValuePair<string, string>> Settings(JsonElement p)
    {
        var list = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var prop in p.EnumerateObject())
            if (Text(prop.Value) is { } text)
                list.Add(new(prop.Name, prop.Name == "override_tensor" ? ExpandLayerRanges(text) : text));
        return list.ToImmutable();
    }

    /// <summary>
    /// "blk.14..47.ffn_…" is the shorthand harvested cases use for the layer lists llama-fit-params prints
    /// (blk\.(14|15|…|47)\.ffn_…); as a regular expression it would match nothing, so a "blk.A..B." range with
    /// A &lt; B is expanded to the alternation it stands for.
    /// </summary>
    internal static string ExpandLayerRanges(string pattern) => System.Text.RegularExpressions.Regex.Replace(pattern, @"blk\\?\.(\d+)\.\.(\d+)\\?\.", m =>
    {
        int a = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int b = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return a < b && b - a < 4096
            ? @"blk\.(" + string.Join('|', Enumerable.Range(a, b - a + 1)) + @")\."
            : m.Value;
    }, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));

    private static string? Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        // several values of a repeatable option (-ot a=CPU -ot b=CUDA0): one per line
        JsonValueKind.Array => string.Join('\n', e.EnumerateArray().Select(Text).Where(t => t is not null)) + "\n",
        JsonValueKind.Object => e.GetRawText(),
        _ => null,
    };

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>
    /// SGLang prints the memory available before it loads weights ("avail mem=21.63 GB", kept unscored as
    /// observed_extra.avail_before_weights_gib): the GPU's free memory, an input of its budget rule, when the case
    /// does not name the card.
    /// </summary>
    private static long? AvailableBeforeWeightsMib(JsonElement root) =>
        root.TryGetProperty("observed_extra", out var extra) && extra.ValueKind == JsonValueKind.Object
            && extra.TryGetProperty("avail_before_weights_gib", out var v) && v.ValueKind == JsonValueKind.Number
            ? (long)Math.Round(v.GetDouble() * 1024)
            : null;

    private static long? Long(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l
        : e.TryGetProperty(key, out var d) && d.ValueKind == JsonValueKind.Number ? (long)d.GetDouble() : null;

}
