using System.Globalization;
using VramFit.Errors;

namespace VramFit.Units;

/// <summary>
/// Parses token and other counts written the way people write context lengths: "32768", "32k" (=32768,
/// k is 1024 for token counts because context sizes are powers of two), "128K", "1m" (=1048576), "4000".
/// </summary>
public static class TokenCount
{
    /// <summary>The largest count accepted; larger is treated as absurd input.</summary>
    public const long Limit = 1L << 40;

    public static long Parse(string text, string setting)
    {
        var s = (text ?? "").Trim();
        long multiplier = 1;
        if (s.Length > 0)
        {
            switch (char.ToLowerInvariant(s[^1]))
            {
                case 'k': multiplier = 1024; s = s[..^1]; break;
                case 'm': multiplier = 1024 * 1024; s = s[..^1]; break;
            }
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
            throw new InvalidSettingException(setting, $"'{text}' is not a count (examples: 8192, 32k, 128K)");
        var total = value * multiplier;
        if (total < 0)
            throw new InvalidSettingException(setting, $"'{text}' is negative");
        if (total > Limit)
            throw new InvalidSettingException(setting, $"'{text}' is absurdly large (limit {Limit})");
        if (total != Math.Floor(total))
            throw new InvalidSettingException(setting, $"'{text}' is not a whole number");
        return (long)total;
    }
}
