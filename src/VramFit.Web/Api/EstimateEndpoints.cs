using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VramFit.Engines;
using VramFit.Models;
using VramFit.Reports;
using VramFit.Sources.HfConfig;
using VramFit.Units;

namespace VramFit.Web.Api;

/// <summary><c>/api/estimate</c>, <c>/api/curve</c> and <c>/api/inspect</c>: the CLI's estimate and inspect over HTTP.</summary>
internal static class EstimateEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/api/estimate", (HttpRequest request) => Estimate(request, null));
        app.MapPost("/api/estimate", async (HttpRequest request) => Estimate(request, await UploadedConfig(request)));
        app.MapGet("/api/curve", (HttpRequest request) => Curve(request, null));
        app.MapPost("/api/curve", async (HttpRequest request) => Curve(request, await UploadedConfig(request)));
        app.MapGet("/api/inspect", (HttpRequest request) =>
            Json(System.Text.Json.JsonSerializer.Serialize(ModelSummary.Of(ModelLookup.Resolve(QueryBinding.Text(request.Query, "model")
                ?? throw new BadRequestException("model: missing"))), ReportJsonContext.Relaxed.ModelSummary)));
        app.MapPost("/api/inspect", async (HttpRequest request) =>
            Json(System.Text.Json.JsonSerializer.Serialize(ModelSummary.Of(await UploadedConfig(request)
                ?? throw new BadRequestException("body: expected a config.json")), ReportJsonContext.Relaxed.ModelSummary)));
    }

    private static IResult Estimate(HttpRequest request, ModelDescription? uploaded)
    {
        var input = QueryBinding.Input(request);
        var model = uploaded?.WithName(input.Model, "upload");
        var estimate = input.ToRequest(model);
        var report = input.ResolveEngine(estimate.Model).Estimate(estimate);
        MemoryReport? rule = QueryBinding.Text(request.Query, "method") == "rule-of-thumb"
            ? EngineCatalog.Get("rule-of-thumb").Estimate(estimate with { Settings = EngineSettings.Empty })
            : null;
        return Json(EstimateDocument.From(report, rule).ToJson());
    }

    /// <summary>Memory against context length (or batch): the page's chart. Points are spaced geometrically.</summary>
    private static IResult Curve(HttpRequest request, ModelDescription? uploaded)
    {
        var input = QueryBinding.Input(request);
        string axis = QueryBinding.Text(request.Query, "axis") ?? "context";
        if (axis is not ("context" or "batch"))
            throw new BadRequestException($"axis: '{axis}' is not context or batch");
        int points = QueryBinding.Int(request.Query, "points", 24, 2, 64)!.Value;
        var model = uploaded?.WithName(input.Model, "upload") ?? ModelLookup.Resolve(input.Model);
        long max = axis == "context"
            ? TokenCount.Parse(QueryBinding.Text(request.Query, "max") ?? (model.MaxContext > 0 ? model.MaxContext.ToString(System.Globalization.CultureInfo.InvariantCulture) : "131072"), "max")
            : QueryBinding.Int(request.Query, "max", 256, 1, 1 << 16)!.Value;
        long min = axis == "context" ? Math.Min(512, max) : 1;
        var engine = input.ResolveEngine(model);
        var result = new List<CurvePoint>(points);
        long capacity = 0;
        long previous = -1;
        for (int i = 0; i < points; i++)
        {
            long x = (long)Math.Round(min * Math.Pow(max / (double)min, i / (double)(points - 1)));
            if (x == previous)
                continue;
            previous = x;
            var pointInput = axis == "context"
                ? input with { Context = x.ToString(System.Globalization.CultureInfo.InvariantCulture) }
                : input with { Batch = (int)x };
            var report = engine.Estimate(pointInput.ToRequest(model));
            var fullest = report.Accelerators.MaxBy(d => d.TotalBytes)!;
            capacity = fullest.CapacityBytes;
            result.Add(new CurvePoint(x, fullest.TotalBytes, fullest.BytesOf(MemoryCategory.Weights),
                fullest.BytesOf(MemoryCategory.KvCache) + fullest.BytesOf(MemoryCategory.RecurrentState),
                fullest.BytesOf(MemoryCategory.Activations) + fullest.BytesOf(MemoryCategory.Output),
                fullest.BytesOf(MemoryCategory.Overhead), report.Fits));
        }

        return Results.Json(new CurveDocument(axis, capacity, result), ApiJsonContext.Default.CurveDocument);
    }

    /// <summary>
    /// Reads an uploaded model (size-limited by Kestrel) into a description: a config.json, or the head of a
    /// .gguf file (<c>application/octet-stream</c>; the page sends only the first MiBs, with the real size in
    /// <c>fileSize</c> so tensor bounds are checked against the whole file).
    /// </summary>
    private static async Task<ModelDescription?> UploadedConfig(HttpRequest request)
    {
        if (request.ContentLength is 0)
            return null;
        if (request.ContentType?.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
            buffer.Position = 0;
            long? fileSize = QueryBinding.Text(request.Query, "fileSize") is { } sizeText
                ? (long.TryParse(sizeText, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= buffer.Length ? n : throw new BadRequestException($"fileSize: '{sizeText}' is not the file's size"))
                : buffer.Length;
            var gguf = Sources.Gguf.GgufReader.Read(buffer, "upload.gguf", fileSize);
            return Sources.Gguf.GgufModelTranslator.Translate(gguf.Metadata, "upload").WithCheckpoint(gguf.Checkpoint);
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        using var doc = System.Text.Json.JsonDocument.Parse(text);
        if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
            && doc.RootElement.TryGetProperty("config", out var config) && config.ValueKind == System.Text.Json.JsonValueKind.Object
            && doc.RootElement.TryGetProperty("safetensors", out var shards) && shards.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            // {"config": {...}, "safetensors": [{"name", "size", "header"}]}: config.json with each shard's JSON header
            var list = new List<(string, long, string)>();
            foreach (var shard in shards.EnumerateArray().Take(1000))
            {
                if (shard.ValueKind != System.Text.Json.JsonValueKind.Object
                    || !shard.TryGetProperty("header", out var header) || header.ValueKind != System.Text.Json.JsonValueKind.String
                    || !shard.TryGetProperty("size", out var size) || !size.TryGetInt64(out var bytes))
                    throw new BadRequestException("safetensors: each shard needs \"header\" (its JSON header) and \"size\" (the file's bytes)");
                string shardName = shard.TryGetProperty("name", out var n) && n.ValueKind == System.Text.Json.JsonValueKind.String ? n.GetString()! : "model.safetensors";
                list.Add((shardName, bytes, header.GetString()!));
            }

            return Sources.ModelSources.FromHeaders(config.GetRawText(), list, "upload").RequireDescription();
        }

        return HfConfigReader.Parse(text, "upload", "upload");
    }

    private static IResult Json(string json) => Results.Text(json, "application/json; charset=utf-8");
}

/// <summary>One point of a memory curve: the fullest GPU's memory by category at one context or batch.</summary>
public sealed record CurvePoint(long X, long TotalBytes, long WeightBytes, long KvCacheBytes, long ActivationBytes, long OverheadBytes, bool Fits);

/// <summary>Memory of the fullest GPU along one axis.</summary>
public sealed record CurveDocument(string Axis, long CapacityBytes, IReadOnlyList<CurvePoint> Points);
