using System.Text.Json.Serialization;

namespace VramFit.Web.Api;

/// <summary>Source-generated JSON for the API's own documents (camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(CurveDocument))]
[JsonSerializable(typeof(List<ModelListItem>))]
[JsonSerializable(typeof(List<EngineListItem>))]
[JsonSerializable(typeof(List<GpuListItem>))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
