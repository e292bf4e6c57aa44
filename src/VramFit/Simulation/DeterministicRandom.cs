namespace VramFit.Simulation;

/// <summary>
/// xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64: the same seed gives the same stream on
/// every platform and every .NET version, which <see cref="System.Random"/> does not promise.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in (0, 1]: safe under a logarithm.</summary>
    public double NextOpenDouble() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));

    /// <summary>Exponential with the given mean (inverse transform).</summary>
    public double NextExponential(double mean) => -mean * Math.Log(NextOpenDouble());

    /// <summary>Standard normal (Box–Muller; one of the pair is discarded to keep the stream simple).</summary>
    public double NextStandardNormal() =>
        Math.Sqrt(-2 * Math.Log(NextOpenDouble())) * Math.Cos(2 * Math.PI * NextDouble());

    /// <summary>Gamma(shape, scale) by Marsaglia and Tsang (2000), with the shape &lt; 1 boost.</summary>
    public double NextGamma(double shape, double scale)
    {
        if (shape < 1)
            return NextGamma(shape + 1, scale) * Math.Pow(NextOpenDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextStandardNormal();
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            double u = NextOpenDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                return d * v * scale;
        }
    }

    /// <summary>Uniform integer in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound) => (int)(NextDouble() * bound);

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
