using System.Collections.Immutable;

namespace VramFit.Validation;

/// <summary>Predicted vs observed for one figure; <see cref="Predicted"/> null = the estimator has no such figure (a miss).</summary>
public sealed record FigureResult(string Name, double Observed, double? Predicted, double? ErrorPct)
{
    /// <summary>The family: the name before the first '.' or '[' ("kv_buffer_mib").</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Family => FamilyOf(Name);

    internal static string FamilyOf(string name)
    {
        int i = name.IndexOfAny(['.', '[']);
        return i < 0 ? name : name[..i];
    }
}

/// <summary>One case of the report: "ok" with its figures, or "skipped" with the reason.</summary>
public sealed record CaseResult(string Id, string Engine, string Status, string? Reason, ImmutableArray<FigureResult> Figures)
{
    public const string Ok = "ok";
    public const string Skipped = "skipped";

    /// <summary>Families the case observed (also for a skipped case, so it counts in the summary); by default those of its figures.</summary>
    internal ImmutableArray<string> ObservedFamilies
    {
        get => observedFamilies.IsDefaultOrEmpty ? [.. Figures.Select(f => f.Family).Distinct(StringComparer.Ordinal)] : observedFamilies;
        init => observedFamilies = value;
    }

    private readonly ImmutableArray<string> observedFamilies;
}

/// <summary>Accuracy of one engine on one figure family.</summary>
public sealed record SummaryRow(
    string Engine,
    string Figure,
    int Cases,
    int Skipped,
    double MedianAbsErrorPct,
    double P95AbsErrorPct,
    double Within1Pct,
    double Within5Pct,
    double Within10Pct);

/// <summary>The validation report (shared/validation/SCHEMA.md): every case, then the summary per engine and figure family.</summary>
public sealed record ValidationReport(ImmutableArray<CaseResult> Cases, ImmutableArray<SummaryRow> Summary)
{
    /// <summary>A miss (no prediction) counts as this absolute error in the median, p95 and shares.</summary>
    public const double MissErrorPct = 100.0;

    /// <summary>Builds the report and its summary from case results.</summary>
    public static ValidationReport From(IEnumerable<CaseResult> results)
    {
        var cases = results.ToImmutableArray();
        var rows = ImmutableArray.CreateBuilder<SummaryRow>();
        foreach (var engine in cases.Select(c => c.Engine).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var ofEngine = cases.Where(c => c.Engine == engine).ToList();
            var families = ofEngine.SelectMany(c => c.ObservedFamilies).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var family in families)
            {
                var withFamily = ofEngine.Where(c => c.ObservedFamilies.Contains(family)).ToList();
                int skipped = withFamily.Count(c => c.Status == CaseResult.Skipped);
                var errors = withFamily.Where(c => c.Status == CaseResult.Ok)
                    .SelectMany(c => c.Figures.Where(f => f.Family == family))
                    .Select(f => f.ErrorPct is { } e ? Math.Abs(e) : MissErrorPct)
                    .Order()
                    .ToArray();
                rows.Add(new SummaryRow(engine, family, withFamily.Count - skipped, skipped,
                    Round(Median(errors)), Round(Percentile(errors, 0.95)),
                    Share(errors, 1), Share(errors, 5), Share(errors, 10)));
            }
        }

        return new ValidationReport(cases, rows.ToImmutable());
    }

    /// <summary>Signed error in percent of the observed value; 0 observed: 0 when predicted 0, else a miss.</summary>
    public static double ErrorPct(double observed, double predicted) =>
        observed == 0 ? (predicted == 0 ? 0 : MissErrorPct) : Round((predicted - observed) / Math.Abs(observed) * 100);

    /// <summary>Median of sorted values (mean of the middle two); 0 for none.</summary>
    public static double Median(double[] sorted) => sorted.Length == 0 ? 0
        : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
        : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

    /// <summary>Nearest-rank percentile of sorted values; 0 for none.</summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Share(double[] errors, double bound) =>
        errors.Length == 0 ? 0 : Round((double)errors.Count(e => e <= bound) / errors.Length);

    private static double Round(double v) => Math.Round(v, 4);
}
