using System.Text.Json;
using System.Text.Json.Serialization;
using VramFit.Performance;

namespace VramFit.Simulation;

/// <summary>JSON of performance estimates and simulation studies (source-generated): camelCase, enums as camelCase names.
/// Shared by <c>vramfit perf/simulate --json</c> and the web API.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters = [typeof(CamelCaseEnumConverter<BatchingPolicy>), typeof(CamelCaseEnumConverter<ComputePrecision>)])]
[JsonSerializable(typeof(PerformanceEstimate))]
[JsonSerializable(typeof(ServingStudyResult))]
public sealed partial class PerformanceJsonContext : JsonSerializerContext;

/// <summary>Writes an enum as its camelCase name ("continuous", "fp8").</summary>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase)
    where TEnum : struct, Enum;
