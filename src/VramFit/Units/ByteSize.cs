using System.Globalization;
using VramFit.Errors;

namespace VramFit.Units;

/// <summary>
/// An amount of memory in bytes. Binary units (KiB, MiB, GiB, TiB = powers of 1024) and decimal units
/// (KB, MB, GB, TB = powers of 1000) are kept distinct everywhere: "80GB" is 80·10⁹ bytes,
/// "80GiB" is 80·2³⁰. Engines print MiB/GiB, so formatting uses binary units.
/// </summary>
public readonly record struct ByteSize(long Bytes) : IComparable<ByteSize>
{
    public const long KiB = 1L << 10;
    public const long MiB = 1L << 20;
    public const long GiB = 1L << 30;
    public const long TiB = 1L << 40;

    public static ByteSize Zero => default;

    public static ByteSize FromMiB(double mib) => new(checked((long)Math.Round(mib * MiB)));
    public static ByteSize FromGiB(double gib) => new(checked((long)Math.Round(gib * GiB)));

    public double TotalMiB => Bytes / (double)MiB;
    public double TotalGiB => Bytes / (double)GiB;

    public static ByteSize operator +(ByteSize a, ByteSize b) => new(checked(a.Bytes + b.Bytes));
    public static ByteSize operator -(ByteSize a, ByteSize b) => new(checked(a.Bytes - b.Bytes));
    public static ByteSize operator *(ByteSize a, long k) => new(checked(a.Bytes * k));
    public static bool operator <(ByteSize a, ByteSize b) => a.Bytes < b.Bytes;
    public static bool operator >(ByteSize a, ByteSize b) => a.Bytes > b.Bytes;
    public static bool operator <=(ByteSize a, ByteSize b) => a.Bytes <= b.Bytes;
    public static bool operator >=(ByteSize a, ByteSize b) => a.Bytes >= b.Bytes;

    public int CompareTo(ByteSize other) => Bytes.CompareTo(other.Bytes);

    public static ByteSize Max(ByteSize a, ByteSize b) => a.Bytes >= b.Bytes ? a : b;
    public static ByteSize Min(ByteSize a, ByteSize b) => a.Bytes <= b.Bytes ? a : b;

    /// <summary>
    /// Parses "24GiB", "80GB", "1.5 TiB", "512MiB", "16384" (bytes) and "24G" (treated as GiB, as
    /// nvidia-smi and most users mean it). Throws <see cref="InvalidSettingException"/> naming
    /// <paramref name="setting"/> on malformed, negative or absurd (≥ 1 EiB) input.
    /// </summary>
    public static ByteSize Parse(string text, string setting = "size")
    {
        if (!TryParse(text, out var size, out var problem))
            throw new InvalidSettingException(setting, problem);
        return size;
    }

    public static bool TryParse(string? text, out ByteSize size) => TryParse(text, out size, out _);

    private static bool TryParse(string? text, out ByteSize size, out string problem)
    {
        size = default;
        var s = (text ?? "").Trim();
        if (s.Length == 0)
        {
            problem = "empty size";
            return false;
        }

        int split = s.Length;
        while (split > 0 && char.IsLetter(s[split - 1]))
            split--;
        var number = s[..split].Trim();
        var unit = s[split..].ToUpperInvariant();
        double multiplier = unit switch
        {
            "" or "B" => 1,
            "K" or "KIB" => KiB,
            "M" or "MIB" => MiB,
            "G" or "GIB" => GiB,
            "T" or "TIB" => TiB,
            "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            _ => double.NaN,
        };
        if (double.IsNaN(multiplier))
        {
            problem = $"unknown unit '{s[split..]}' in '{s}' (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)";
            return false;
        }

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
        {
            problem = $"'{s}' is not a size (examples: 24GiB, 80GB, 16384)";
            return false;
        }

        var bytes = value * multiplier;
        if (bytes < 0)
        {
            problem = $"'{s}' is negative";
            return false;
        }

        if (bytes >= 1e18)
        {
            problem = $"'{s}' is absurdly large";
            return false;
        }

        size = new ByteSize((long)Math.Round(bytes));
        problem = "";
        return true;
    }

    /// <summary>Formats with binary units and up to two decimals: "15.0 GiB", "300.75 MiB".</summary>
    public override string ToString()
    {
        var b = Math.Abs(Bytes);
        var sign = Bytes < 0 ? "-" : "";
        return b switch
        {
            >= TiB => sign + (b / (double)TiB).ToString("0.##", CultureInfo.InvariantCulture) + " TiB",
            >= GiB => sign + (b / (double)GiB).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
            >= MiB => sign + (b / (double)MiB).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
            >= KiB => sign + (b / (double)KiB).ToString("0.##", CultureInfo.InvariantCulture) + " KiB",
            _ => sign + b.ToString(CultureInfo.InvariantCulture) + " B",
        };
    }
}
