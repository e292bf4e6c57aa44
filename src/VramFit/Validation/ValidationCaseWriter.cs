using System.Globalization;
using System.Text;
using System.Text.Json;
using VramFit.Sources.Gguf;

namespace VramFit.Validation;

/// <summary>Writes a case as one JSONL line of the validation format (the inverse of <see cref="ValidationCaseReader"/>).</summary>
public static class ValidationCaseWriter
{
    /// <summary>The case as one line of JSON; observed figures are nested back ("kv_buffer_mib.CUDA0[1]" → {"kv_buffer_mib":{"CUDA0":[…,…]}}).</summary>
    public static string ToJsonLine(ValidationCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("id", c.Id);
            w.WriteString("engine", c.Engine);
            if (c.EngineVersion is not null) w.WriteString("engine_version", c.EngineVersion);
            if (c.Source is not null) w.WriteString("source", c.Source);
            if (c.Gpu is { } gpu)
            {
                w.WriteStartObject("gpu");
                if (gpu.Name is not null) w.WriteString("name", gpu.Name);
                if (gpu.Count is { } count) w.WriteNumber("count", count);
                if (gpu.TotalMib is { } total) w.WriteNumber("total_mib", total);
                if (gpu.FreeMib is { } free && !gpu.FreeAfterEngineInit) w.WriteNumber("free_mib", free);
                if (gpu.Backend is not null) w.WriteString("backend", gpu.Backend);
                w.WriteEndObject();
            }

            w.WriteStartObject("model");
            if (c.Gguf is { } g)
            {
                w.WriteStartObject("gguf");
                foreach (var key in g.Keys.Order(StringComparer.Ordinal).OrderBy(k => k == "general.architecture" ? 0 : 1))
                {
                    w.WritePropertyName(key);
                    WriteValue(w, g.Get(key));
                }

                w.WriteEndObject();
            }

            if (c.HfId is not null) w.WriteString("hf_id", c.HfId);
            if (c.GgufFile is not null) w.WriteString("gguf_file", c.GgufFile);
            if (c.HfConfig is { } config)
            {
                w.WritePropertyName("hf_config");
                config.WriteTo(w);
            }

            w.WriteEndObject();
            w.WriteStartObject("params");
            foreach (var (key, value) in c.Params)
            {
                w.WritePropertyName(key);
                if (value is "true" or "false") w.WriteBooleanValue(value == "true");
                else if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) w.WriteNumberValue(l);
                else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) w.WriteNumberValue(d);
                else w.WriteStringValue(value);
            }

            w.WriteEndObject();
            w.WritePropertyName("observed");
            WriteNode(w, Nest(c.Observed));
            // SGLang's reading before loading goes back where the reader takes it from
            if (c.Gpu is { FreeAfterEngineInit: true, FreeMib: { } before })
            {
                w.WriteStartObject("observed_extra");
                w.WriteNumber("avail_before_weights_gib", Math.Round(before / 1024.0, 2));
                w.WriteEndObject();
            }

            if (c.Notes is not null) w.WriteString("notes", c.Notes);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case long l: w.WriteNumberValue(l); break;
            case double d: w.WriteNumberValue(d); break;
            case bool b: w.WriteBooleanValue(b); break;
            case string s: w.WriteStringValue(s); break;
            case GgufArray a:
                w.WriteStartArray();
                foreach (var item in a.Items) WriteValue(w, item);
                w.WriteEndArray();
                break;
            default: w.WriteNullValue(); break;
        }
    }

    private sealed class Node
    {
        public double? Value { get; set; }
        public SortedList<int, Node>? Items { get; set; }
        public List<(string Key, Node Child)>? Children { get; set; }

        public Node Child(string key)
        {
            Children ??= [];
            foreach (var (k, n) in Children)
                if (k == key) return n;
            var node = new Node();
            Children.Add((key, node));
            return node;
        }

        public Node Item(int index)
        {
            Items ??= [];
            if (!Items.TryGetValue(index, out var node))
                Items[index] = node = new Node();
            return node;
        }
    }

    private static Node Nest(IEnumerable<ObservedFigure> figures)
    {
        var root = new Node();
        foreach (var f in figures)
        {
            var node = root;
            foreach (var segment in f.Name.Split('.'))
            {
                int bracket = segment.IndexOf('[', StringComparison.Ordinal);
                node = node.Child(bracket < 0 ? segment : segment[..bracket]);
                if (bracket >= 0)
                    node = node.Item(int.Parse(segment[(bracket + 1)..^1], CultureInfo.InvariantCulture));
            }

            node.Value = f.Value;
        }

        return root;
    }

    private static void WriteNode(Utf8JsonWriter w, Node n)
    {
        if (n.Items is { } items)
        {
            w.WriteStartArray();
            foreach (var item in items.Values) WriteNode(w, item);
            w.WriteEndArray();
        }
        else if (n.Children is { } children)
        {
            w.WriteStartObject();
            foreach (var (key, child) in children)
            {
                w.WritePropertyName(key);
                WriteNode(w, child);
            }

            w.WriteEndObject();
        }
        else
        {
            w.WriteNumberValue(n.Value ?? 0);
        }
    }
}
