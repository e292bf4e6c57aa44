using System.Globalization;

namespace VramFit.Tests.Sources;

/// <summary>Mutation-fuzz iterations: 3000 by default; set VRAMFIT_FUZZ_ITERATIONS for a long run.</summary>
internal static class FuzzIterations
{
    public static int Count { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("VRAMFIT_FUZZ_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 1 ? n : 3000;
}
