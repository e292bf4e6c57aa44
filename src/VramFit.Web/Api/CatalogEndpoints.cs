using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VramFit.Engines;
using VramFit.Models;

namespace VramFit.Web.Api;

/// <summary><c>/api/models</c>, <c>/api/gpus</c> and <c>/api/engines</c>: what the page offers in its pickers.</summary>
internal static class CatalogEndpoints
{
    private static readonly Lazy<List<ModelListItem>> Models = new(() => ModelCatalog.All.Select(m =>
    {
        var d = m.Describe();
        var profile = ModelProfile.Create(d);
        return new ModelListItem(m.Id, d.Architecture, profile.Parameters, d.Layers.Length, d.MaxContext);
    }).OrderBy(m => m.Id, StringComparer.OrdinalIgnoreCase).ToList());

    public static void Map(WebApplication app)
    {
        app.MapGet("/api/models", () => Results.Json(Models.Value, ApiJsonContext.Default.ListModelListItem));
        app.MapGet("/api/gpus", () => Results.Json(
            Hardware.AcceleratorCatalog.All.Select(g => new GpuListItem(g.Id, g.Name, g.Vendor.ToString(), g.MemoryBytes, g.MemoryBandwidthGBps, g.Bf16Tflops, g.Fp8Tflops, g.Source)).ToList(),
            ApiJsonContext.Default.ListGpuListItem));
        app.MapGet("/api/engines", () => Results.Json(
            EngineCatalog.All.Select(e => new EngineListItem(e.Id, e.SettingNames.Order(StringComparer.Ordinal).ToList())).ToList(),
            ApiJsonContext.Default.ListEngineListItem));
    }
}

/// <summary>One catalog model as the page lists it.</summary>
public sealed record ModelListItem(string Id, string Architecture, long Parameters, int Layers, int MaxContext);

/// <summary>One catalog accelerator as the page lists it.</summary>
public sealed record GpuListItem(string Id, string Name, string Vendor, long MemoryBytes, double MemoryBandwidthGBps, double Bf16Tflops, double Fp8Tflops, string? Source);

/// <summary>One engine and its native setting names.</summary>
public sealed record EngineListItem(string Id, IReadOnlyList<string> Settings);
