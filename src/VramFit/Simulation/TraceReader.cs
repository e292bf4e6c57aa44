using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using VramFit.Errors;

namespace VramFit.Simulation;

/// <summary>
/// Reads request traces: JSON Lines (one object per line) or CSV with a header row. Column names accepted:
/// arrival time "arrival" / "arrival_time" / "timestamp" (seconds), "prompt_tokens" / "input_tokens" /
/// "input_length", "output_tokens" / "output_length" / "max_tokens".
/// </summary>
public static class TraceReader
{
    private static readonly string[] ArrivalNames = ["arrival", "arrival_time", "timestamp", "time"];
    private static readonly string[] PromptNames = ["prompt_tokens", "input_tokens", "input_length", "prompt_len"];
    private static readonly string[] OutputNames = ["output_tokens", "output_length", "max_tokens", "output_len"];

    public static ImmutableArray<TraceRequest> Read(string path)
    {
        if (!File.Exists(path))
            throw new InvalidSettingException("trace", $"file '{path}' not found");
        using var reader = new StreamReader(path);
        return path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ReadCsv(reader, path) : ReadJsonLines(reader, path);
    }

    public static ImmutableArray<TraceRequest> ReadJsonLines(TextReader reader, string name)
    {
        var list = ImmutableArray.CreateBuilder<TraceRequest>();
        int line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
                continue;
            try
            {
                using var doc = JsonDocument.Parse(text);
                var o = doc.RootElement;
                if (o.ValueKind != JsonValueKind.Object)
                    throw Bad(name, line, "expected a JSON object");
                list.Add(Make(name, line, Field(o, ArrivalNames), Field(o, PromptNames), Field(o, OutputNames)));
            }
            catch (JsonException e)
            {
                throw Bad(name, line, e.Message);
            }
        }

        return Done(list, name);
    }

    public static ImmutableArray<TraceRequest> ReadCsv(TextReader reader, string name)
    {
        var header = reader.ReadLine()?.Split(',', StringSplitOptions.TrimEntries) ?? throw Bad(name, 1, "empty file");
        int Column(string[] names)
        {
            for (int i = 0; i < header.Length; i++)
                if (names.Contains(header[i].ToLowerInvariant()))
                    return i;
            throw Bad(name, 1, $"header has no '{names[0]}' column");
        }

        int a = Column(ArrivalNames), p = Column(PromptNames), o = Column(OutputNames);
        var list = ImmutableArray.CreateBuilder<TraceRequest>();
        int line = 1;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
                continue;
            var cells = text.Split(',', StringSplitOptions.TrimEntries);
            if (cells.Length < header.Length)
                throw Bad(name, line, $"{cells.Length} cells, header has {header.Length}");
            list.Add(Make(name, line, Number(cells[a]), Number(cells[p]), Number(cells[o])));
        }

        return Done(list, name);
    }

    private static double? Number(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static double? Field(JsonElement o, string[] names)
    {
        foreach (var n in names)
            if (o.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.Number)
                return v.GetDouble();
        return null;
    }

    private static TraceRequest Make(string name, int line, double? arrival, double? prompt, double? output)
    {
        if (arrival is not { } t || !double.IsFinite(t) || t < 0 || t > 1e9)
            throw Bad(name, line, "missing or negative arrival time");
        if (prompt is not { } p || p < 1 || p > LengthDistribution.MaxTokens)
            throw Bad(name, line, "missing or out-of-range prompt token count");
        if (output is not { } o || o < 1 || o > LengthDistribution.MaxTokens)
            throw Bad(name, line, "missing or out-of-range output token count");
        return new TraceRequest(t, (int)p, (int)o);
    }

    private static ImmutableArray<TraceRequest> Done(ImmutableArray<TraceRequest>.Builder list, string name) =>
        list.Count == 0 ? throw new InvalidSettingException("trace", $"{name} holds no requests") : list.ToImmutable();

    private static InvalidSettingException Bad(string name, int line, string problem) =>
        new("trace", $"{name}:{line}: {problem}");
}
