using System.Globalization;
using System.Text.RegularExpressions;

namespace VramFit.Engines.Vllm;

/// <summary>
/// A vLLM release as far as memory behaviour depends on it: the version number and whether the V0 or
/// the V1 engine runs. Parsed from what logs and case files print ("0.10.1.1 V1", "~0.6.x V0",
/// "main@2024-12-13 (PR #10511) V0", "0.2.4"); no version means the current release with V1.
/// </summary>
public readonly partial record struct VllmVersion(int Major, int Minor, int Patch, bool V1)
{
    /// <summary>The release this model describes when no version is given.</summary>
    public static VllmVersion Latest { get; } = new(0, 11, 0, true);

    public static VllmVersion Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Latest;
        var s = text.Trim();
        int major = Latest.Major, minor = Latest.Minor, patch = Latest.Patch;
        var number = NumberPattern().Match(s);
        var date = DatePattern().Match(s);
        if (number.Success)
        {
            major = int.Parse(number.Groups[1].Value, CultureInfo.InvariantCulture);
            minor = int.Parse(number.Groups[2].Value, CultureInfo.InvariantCulture);
            // "0.6.x": the series, read as its last patch release (its behaviour is what most such logs show)
            patch = number.Groups[3].Success ? int.Parse(number.Groups[3].Value, CultureInfo.InvariantCulture)
                : s.AsSpan(number.Index + number.Length).StartsWith(".x", StringComparison.OrdinalIgnoreCase) ? 99 : 0;
        }
        else if (date.Success)
        {
            // a main-branch build: the release cut before that date (vLLM release history on PyPI)
            var d = new DateOnly(int.Parse(date.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(date.Groups[2].Value, CultureInfo.InvariantCulture), 1);
            (minor, patch) = d < new DateOnly(2024, 9, 1) ? (5, 5)
                : d < new DateOnly(2025, 1, 1) ? (6, 4)
                : d < new DateOnly(2025, 4, 1) ? (7, 3)
                : d < new DateOnly(2025, 7, 1) ? (9, 1)
                : d < new DateOnly(2025, 10, 1) ? (10, 2)
                : (11, 0);
            major = 0;
        }

        // V1 became the default engine in 0.8.0 (VLLM_USE_V1=1); an explicit "V0"/"V1" in the text wins.
        bool v1 = major > 0 || minor >= 8;
        if (V0Pattern().IsMatch(s))
            v1 = false;
        else if (V1Pattern().IsMatch(s))
            v1 = true;
        return new VllmVersion(major, minor, patch, v1);
    }

    /// <summary>True when this release is at least <paramref name="minor"/>.<paramref name="patch"/> (0.x numbering).</summary>
    public bool AtLeast(int minor, int patch = 0) => Major > 0 || Minor > minor || (Minor == minor && Patch >= patch);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch} {(V1 ? "V1" : "V0")}");

    [GeneratedRegex(@"(\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"(\d{4})-(\d{2})-\d{2}")]
    private static partial Regex DatePattern();

    [GeneratedRegex(@"\bV0\b", RegexOptions.IgnoreCase)]
    private static partial Regex V0Pattern();

    [GeneratedRegex(@"\bV1\b", RegexOptions.IgnoreCase)]
    private static partial Regex V1Pattern();
}
