using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VramFit.Engines;
using VramFit.Models;

namespace VramFit.Web.Api;

/// <summary><c>/api/models</c> and <c>/api/engines</c>: what the page offers in its pickers.</summary>
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
        app.MapGet("/api/engines", () => Results.Json(
            EngineCatalog.All.Select(e => new EngineListItem(e.Id, e.SettingNames.Order(StringComparer.Ordinal).ToList())).ToList(),
            ApiJsonContext.Default.ListEngineListItem));
    }
}

/// <summary>One catalog model as the page lists it.</summary>
public sealed record ModelListItem(string Id, string Architecture, long Parameters, int Layers, int MaxContext);

/// <summary>One engine and its native setting names.</summary>
public sealed record EngineListItem(string Id, IReadOnlyList<string> Settings);
