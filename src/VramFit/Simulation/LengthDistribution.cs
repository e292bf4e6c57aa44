using System.Collections.Immutable;
using System.Globalization;
using VramFit.Errors;

namespace VramFit.Simulation;

/// <summary>Shape of a token-length distribution.</summary>
public enum LengthDistributionKind
{
    Fixed,
    Uniform,
    Normal,
    LogNormal,
    Empirical,
}

/// <summary>
/// A distribution of prompt or output lengths in tokens. Written as the CLI takes it: "512" or "fixed:512",
/// "uniform:100,900", "normal:1000,200" (mean, standard deviation), "lognormal:1000,0.5" (mean, σ of the
/// underlying normal), "file:lengths.txt" (one length per line, drawn uniformly). Samples are rounded and
/// clamped to [1, <see cref="MaxTokens"/>].
/// </summary>
public sealed record LengthDistribution
{
    /// <summary>Longest length a sample may take; longer draws are clamped (2²⁰ tokens).</summary>
    public const int MaxTokens = 1 << 20;

    public required LengthDistributionKind Kind { get; init; }

    /// <summary>Fixed value, uniform low, normal/lognormal mean.</summary>
    public double A { get; init; }

    /// <summary>Uniform high, normal standard deviation, lognormal σ.</summary>
    public double B { get; init; }

    public ImmutableArray<int> Values { get; init; } = [];

    public static LengthDistribution Fixed(int tokens) => new() { Kind = LengthDistributionKind.Fixed, A = tokens };

    /// <summary>Mean of the distribution (before clamping).</summary>
    public double Mean => Kind switch
    {
        LengthDistributionKind.Fixed => A,
        LengthDistributionKind.Uniform => (A + B) / 2,
        LengthDistributionKind.Empirical => Values.Average(),
        _ => A,
    };

    public int Sample(DeterministicRandom random)
    {
        double x = Kind switch
        {
            LengthDistributionKind.Fixed => A,
            LengthDistributionKind.Uniform => A + Math.Floor(random.NextDouble() * (B - A + 1)),
            LengthDistributionKind.Normal => A + B * random.NextStandardNormal(),
            // mean m = exp(μ + σ²/2) ⇒ μ = ln m − σ²/2
            LengthDistributionKind.LogNormal => Math.Exp(Math.Log(A) - B * B / 2 + B * random.NextStandardNormal()),
            LengthDistributionKind.Empirical => Values[random.NextInt(Values.Length)],
            _ => A,
        };
        return (int)Math.Clamp(Math.Round(x), 1, MaxTokens);
    }

    /// <summary>Parses the CLI spelling; <paramref name="setting"/> names the option in errors.</summary>
    public static LengthDistribution Parse(string text, string setting)
    {
        var s = (text ?? "").Trim();
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        string kind = colon < 0 ? "fixed" : s[..colon].Trim().ToLowerInvariant();
        string args = colon < 0 ? s : s[(colon + 1)..];
        if (kind == "file")
            return FromFile(args.Trim(), setting);
        var numbers = args.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var v = new double[numbers.Length];
        for (int i = 0; i < numbers.Length; i++)
        {
            if (!double.TryParse(numbers[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !double.IsFinite(v[i]))
                throw new InvalidSettingException(setting, $"'{numbers[i]}' is not a number in '{s}'");
        }

        void Arity(int n)
        {
            if (v.Length != n)
                throw new InvalidSettingException(setting, $"'{s}': {kind} takes {n} number(s)");
        }

        switch (kind)
        {
            case "fixed":
                Arity(1);
                Require(v[0] >= 1, "length must be at least 1");
                return new() { Kind = LengthDistributionKind.Fixed, A = v[0] };
            case "uniform":
                Arity(2);
                Require(v[0] >= 1 && v[1] >= v[0], "uniform needs 1 ≤ low ≤ high");
                return new() { Kind = LengthDistributionKind.Uniform, A = Math.Round(v[0]), B = Math.Round(v[1]) };
            case "normal":
                Arity(2);
                Require(v[0] >= 1 && v[1] >= 0, "normal needs mean ≥ 1 and σ ≥ 0");
                return new() { Kind = LengthDistributionKind.Normal, A = v[0], B = v[1] };
            case "lognormal":
                Arity(2);
                Require(v[0] >= 1 && v[1] >= 0 && v[1] <= 5, "lognormal needs mean ≥ 1 and 0 ≤ σ ≤ 5");
                return new() { Kind = LengthDistributionKind.LogNormal, A = v[0], B = v[1] };
            default:
                throw new InvalidSettingException(setting, $"unknown distribution '{kind}' (use N, fixed:N, uniform:a,b, normal:mean,sd, lognormal:mean,sigma or file:path)");
        }

        void Require(bool ok, string problem)
        {
            if (!ok)
                throw new InvalidSettingException(setting, $"'{s}': {problem}");
        }
    }

    /// <summary>An empirical distribution: one positive integer per line (blank lines and '#' comments skipped).</summary>
    public static LengthDistribution FromFile(string path, string setting)
    {
        if (!File.Exists(path))
            throw new InvalidSettingException(setting, $"file '{path}' not found");
        var values = ImmutableArray.CreateBuilder<int>();
        int line = 0;
        foreach (var raw in File.ReadLines(path))
        {
            line++;
            var t = raw.Trim();
            if (t.Length == 0 || t[0] == '#')
                continue;
            if (!int.TryParse(t.Split(',')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 1)
                throw new InvalidSettingException(setting, $"{path}:{line}: '{t}' is not a positive token count");
            values.Add(n);
        }

        if (values.Count == 0)
            throw new InvalidSettingException(setting, $"{path} holds no lengths");
        return new() { Kind = LengthDistributionKind.Empirical, Values = values.ToImmutable() };
    }

    public override string ToString() => Kind switch
    {
        LengthDistributionKind.Fixed => A.ToString(CultureInfo.InvariantCulture),
        LengthDistributionKind.Empirical => $"empirical({Values.Length} values)",
        _ => string.Create(CultureInfo.InvariantCulture, $"{Kind.ToString().ToLowerInvariant()}:{A},{B}"),
    };
}
