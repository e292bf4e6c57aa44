using System.Text.Json;
using System.Text.Json.Serialization;
using VramFit.Reports;

namespace VramFit.Planning;

/// <summary>One plan option as serialized (sizes in bytes, times in seconds; NaN speeds become null).</summary>
public sealed record PlanOptionDocument(
    int Rank,
    string Configuration,
    string Engine,
    string WeightFormat,
    string? KvCache,
    int TensorParallel,
    int PipelineParallel,
    bool ExpertParallel,
    int GpusPerReplica,
    int Replicas,
    int? GpuLayers,
    int CpuMoeLayers,
    long PeakGpuBytes,
    long MinHeadroomBytes,
    double? TtftSeconds,
    double? TpotSeconds,
    double? TokensPerSecond,
    string QualityRisk,
    string WeightQuality,
    string KvQuality,
    bool Pareto,
    IReadOnlyList<string> Notes,
    string? LaunchCommand,
    EstimateDocument Memory);

/// <summary>The JSON of <c>vramfit plan --json</c>.</summary>
public sealed record PlanDocument(
    string Model,
    string Gpu,
    int GpusPerNode,
    int Nodes,
    long ContextTokens,
    int Concurrency,
    string Goal,
    int CandidatesEvaluated,
    IReadOnlyList<PlanOptionDocument> Options,
    IReadOnlyDictionary<string, int> Rejections,
    IReadOnlyList<string> Notes)
{
    public static PlanDocument From(PlanResult result)
    {
        var r = result.Request;
        return new PlanDocument(
            r.Model.Name, r.Gpu.Id, r.GpusPerNode, r.Nodes, r.ContextTokens, r.Concurrency, r.Goal.ToString(),
            result.CandidatesEvaluated,
            result.Options.Select((o, i) => new PlanOptionDocument(
                i + 1, o.Candidate.Describe(), o.Candidate.Engine, o.Candidate.Format.Name, o.Candidate.KvCache,
                o.Candidate.TensorParallel, o.Candidate.PipelineParallel, o.Candidate.ExpertParallel, o.Candidate.GpusPerReplica,
                o.Replicas, o.Candidate.GpuLayers, o.Candidate.CpuMoeLayers, o.PeakGpuBytes, o.MinHeadroomBytes,
                Finite(o.TtftSeconds), Finite(o.TpotSeconds), Finite(o.TokensPerSecond), o.Risk.ToString(),
                o.WeightQuality.Note, o.KvQuality.Note, o.Pareto, o.Notes, o.LaunchCommand, EstimateDocument.From(o.Memory))).ToList(),
            result.Rejections,
            result.Notes);
    }

    public string ToJson() => JsonSerializer.Serialize(this, PlanJsonContext.Relaxed.PlanDocument);

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}

/// <summary>Source-generated JSON for plans (camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(PlanDocument))]
public sealed partial class PlanJsonContext : JsonSerializerContext
{
    /// <summary>Writes "×" and "Σ" as themselves.</summary>
    public static PlanJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
