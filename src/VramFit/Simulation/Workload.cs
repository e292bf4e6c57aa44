using System.Collections.Immutable;
using VramFit.Errors;

namespace VramFit.Simulation;

/// <summary>How requests arrive.</summary>
public enum ArrivalKind
{
    /// <summary>Open loop, exponential inter-arrival times at <see cref="Workload.Rate"/> (vLLM benchmark_serving's default, burstiness 1).</summary>
    Poisson,

    /// <summary>Open loop, gamma inter-arrival times with mean 1/rate and coefficient of variation
    /// <see cref="Workload.GammaCv"/> (vLLM benchmark_serving <c>--burstiness</c> = 1/cv²).</summary>
    Gamma,

    /// <summary><see cref="Workload.Users"/> users each send a request, wait for its last token, think, send again.</summary>
    ClosedLoop,

    /// <summary>Arrival times and lengths replayed from <see cref="Workload.Trace"/>.</summary>
    Trace,
}

/// <summary>One request of a trace file.</summary>
public readonly record struct TraceRequest(double ArrivalSeconds, int PromptTokens, int OutputTokens);

/// <summary>
/// The traffic a simulation replays. Everything random is drawn from one <see cref="DeterministicRandom"/>
/// seeded with <see cref="Seed"/>, lengths before arrivals, so a run is reproducible bit for bit.
/// </summary>
public sealed record Workload
{
    public ArrivalKind Arrivals { get; init; } = ArrivalKind.Poisson;

    /// <summary>Requests per second (open loop).</summary>
    public double Rate { get; init; } = 1;

    /// <summary>Coefficient of variation of gamma inter-arrival times (1 = Poisson, &gt; 1 bursty).</summary>
    public double GammaCv { get; init; } = 1;

    /// <summary>Concurrent users of a closed loop.</summary>
    public int Users { get; init; } = 1;

    /// <summary>Mean think time between a response and the user's next request (exponential; 0 = none).</summary>
    public double ThinkSeconds { get; init; }

    public LengthDistribution PromptLength { get; init; } = LengthDistribution.Fixed(512);

    public LengthDistribution OutputLength { get; init; } = LengthDistribution.Fixed(128);

    /// <summary>Requests to simulate (ignored for traces: every trace row is one request).</summary>
    public int Requests { get; init; } = 1000;

    public ulong Seed { get; init; } = 1;

    public ImmutableArray<TraceRequest> Trace { get; init; } = [];

    public int RequestCount => Arrivals == ArrivalKind.Trace ? Trace.Length : Requests;

    /// <summary>A copy at another rate (the rate sweep).</summary>
    public Workload AtRate(double rate) => this with { Rate = rate };

    public void Validate()
    {
        if (Arrivals == ArrivalKind.Trace)
        {
            if (Trace.IsDefaultOrEmpty)
                throw new InvalidSettingException("trace", "holds no requests");
            return;
        }

        if (Requests is < 1 or > 10_000_000)
            throw new InvalidSettingException("requests", $"must be between 1 and 10,000,000, got {Requests}");
        // bounded so that simulated time stays finite (a vanishing rate would push arrivals to infinity)
        if (Arrivals is ArrivalKind.Poisson or ArrivalKind.Gamma && !(Rate >= 1e-6 && Rate <= 1e9))
            throw new InvalidSettingException("rate", $"must be between 1e-6 and 1e9 requests per second, got {Rate}");
        if (Arrivals == ArrivalKind.Gamma && !(GammaCv > 0 && GammaCv <= 100))
            throw new InvalidSettingException("burstiness", $"coefficient of variation must be in (0, 100], got {GammaCv}");
        if (Arrivals == ArrivalKind.ClosedLoop && Users is < 1 or > 10_000_000)
            throw new InvalidSettingException("users", $"must be at least 1, got {Users}");
        if (!(ThinkSeconds >= 0 && ThinkSeconds <= 1e6))
            throw new InvalidSettingException("think-time", $"must be between 0 and 1e6 seconds, got {ThinkSeconds}");
    }

    /// <summary>
    /// Draws every request's lengths and (open loop) its arrival time. Closed-loop arrivals are NaN here: the
    /// simulator sets them when the user's previous request completes.
    /// </summary>
    public RequestPlan Generate()
    {
        Validate();
        int n = RequestCount;
        var arrival = new double[n];
        var prompt = new int[n];
        var output = new int[n];
        if (Arrivals == ArrivalKind.Trace)
        {
            var sorted = Trace.OrderBy(r => r.ArrivalSeconds).ToArray();
            double t0 = sorted[0].ArrivalSeconds;
            for (int i = 0; i < n; i++)
            {
                arrival[i] = sorted[i].ArrivalSeconds - t0;
                prompt[i] = sorted[i].PromptTokens;
                output[i] = sorted[i].OutputTokens;
            }

            return new RequestPlan(arrival, prompt, output, null);
        }

        var random = new DeterministicRandom(Seed);
        for (int i = 0; i < n; i++)
        {
            prompt[i] = PromptLength.Sample(random);
            output[i] = OutputLength.Sample(random);
        }

        double t = 0, shape = 1 / (GammaCv * GammaCv);
        for (int i = 0; i < n; i++)
        {
            switch (Arrivals)
            {
                case ArrivalKind.Poisson:
                    t += random.NextExponential(1 / Rate);
                    arrival[i] = t;
                    break;
                case ArrivalKind.Gamma:
                    t += random.NextGamma(shape, 1 / (Rate * shape));
                    arrival[i] = t;
                    break;
                default:
                    arrival[i] = double.NaN;
                    break;
            }
        }

        double[]? think = null;
        if (Arrivals == ArrivalKind.ClosedLoop)
        {
            think = new double[n];
            for (int i = 0; i < n; i++)
                think[i] = ThinkSeconds > 0 ? random.NextExponential(ThinkSeconds) : 0;
        }

        return new RequestPlan(arrival, prompt, output, think, Arrivals == ArrivalKind.ClosedLoop ? Users : 0);
    }
}

/// <summary>Drawn requests: arrival (NaN until a closed-loop user sends it), lengths, think time before it,
/// and for a closed loop the number of users.</summary>
public sealed record RequestPlan(double[] Arrival, int[] PromptTokens, int[] OutputTokens, double[]? ThinkSeconds, int Users = 0)
{
    public int Count => Arrival.Length;

    public bool IsClosedLoop => ThinkSeconds is not null;
}
