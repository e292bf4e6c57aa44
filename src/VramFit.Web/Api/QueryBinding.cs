using System.Globalization;
using Microsoft.AspNetCore.Http;
using VramFit.Engines;

namespace VramFit.Web.Api;

/// <summary>Reads the estimate parameters of the page's query string (the same names as the CLI options).</summary>
internal static class QueryBinding
{
    /// <summary>Longest accepted parameter value; model ids and sizes are far shorter.</summary>
    private const int MaxValueLength = 512;

    public static EstimateInput Input(HttpRequest request)
    {
        var q = request.Query;
        return new EstimateInput
        {
            Model = Text(q, "model") ?? throw new BadRequestException("model: missing (a catalog id, see /api/models)"),
            Gpu = Text(q, "gpu"),
            Gpus = Int(q, "gpus", null, 1, 4096),
            Nodes = Int(q, "nodes", 1, 1, 4096) ?? 1,
            Context = Text(q, "context"),
            Batch = Int(q, "batch", null, 1, 1 << 20),
            Dtype = Text(q, "dtype"),
            Quant = Text(q, "quant"),
            KvDtype = Text(q, "kvDtype"),
            Attention = Text(q, "attention"),
            Engine = Text(q, "engine"),
            Settings = q["set"].Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => Limit("set", s!)).Take(64).ToList(),
        };
    }

    public static string? Text(IQueryCollection q, string name)
    {
        var v = q[name].FirstOrDefault();
        return string.IsNullOrWhiteSpace(v) ? null : Limit(name, v.Trim());
    }

    public static int? Int(IQueryCollection q, string name, int? fallback, int min, int max)
    {
        var text = Text(q, name);
        if (text is null)
            return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new BadRequestException($"{name}: '{text}' is not a whole number");
        if (v < min || v > max)
            throw new BadRequestException($"{name}: {v} is out of range [{min}, {max}]");
        return v;
    }

    private static string Limit(string name, string value) => value.Length <= MaxValueLength
        ? value
        : throw new BadRequestException($"{name}: value longer than {MaxValueLength} characters");
}
