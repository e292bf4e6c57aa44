using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VramFit.Simulation;

namespace VramFit.Tests.Simulation;

public class SimulatorInvariantTests
{
    private static readonly LinearStepModel Model = new(0.008, 0.00005, 0.0004);

    private static Workload RandomWorkload(int seed, int requests, int rate, int promptMean) => new()
    {
        Arrivals = seed % 3 == 0 ? ArrivalKind.Gamma : ArrivalKind.Poisson,
        GammaCv = 2,
        Rate = 1 + rate % 200,
        Requests = 1 + requests % 300,
        Seed = (ulong)seed,
        PromptLength = LengthDistribution.Parse($"lognormal:{16 + promptMean % 2000},0.8", "prompt"),
        OutputLength = LengthDistribution.Parse("uniform:1,300", "output"),
    };

    private static SchedulerOptions RandomOptions(int seed, BatchingPolicy policy) => new()
    {
        Policy = policy,
        KvCacheTokens = 2048 + (seed & 0x7fff) * 3,
        BlockSize = (seed & 1) == 0 ? 16 : 32,
        MaxNumSeqs = 1 + (seed >> 3) % 128,
        MaxNumBatchedTokens = 256 + (seed >> 5) % 4096,
        ChunkedPrefill = (seed & 4) == 0 || policy != BatchingPolicy.Continuous,
        Preemption = (seed & 8) == 0 ? PreemptionMode.Recompute : PreemptionMode.Swap,
        KvBytesPerToken = 131072,
        PrefixCaching = (seed & 16) == 0,
        SharedPrefixRatio = (seed % 7) / 7.0,
    };

    [Property(MaxTest = 60)]
    public bool No_request_is_lost_or_duplicated_and_kv_stays_within_the_pool(PositiveInt seed, NonNegativeInt requests, NonNegativeInt rate, NonNegativeInt prompt)
    {
        foreach (var policy in Enum.GetValues<BatchingPolicy>())
        {
            var workload = RandomWorkload(seed.Get, requests.Get, rate.Get, prompt.Get);
            var r = new ServingSimulator(Model, RandomOptions(seed.Get, policy)).Run(workload);
            bool ok = r.Completed + r.Rejected == workload.Requests
                && r.PeakKvUtilization <= 1 + 1e-12
                && r.KvUtilization.All(p => p.Value >= 0 && p.Value <= 1 + 1e-12)
                && r.Ttft.Max <= r.EndToEnd.Max + 1e-12
                && r.Queueing.Mean >= 0
                && (r.Completed == 0 || r.Ttft.P50 > 0);
            if (!ok)
                return false;
        }

        return true;
    }

    [Property(MaxTest = 30)]
    public bool Same_seed_gives_the_same_result(PositiveInt seed, NonNegativeInt requests)
    {
        var workload = RandomWorkload(seed.Get, requests.Get, 50, 500);
        var options = RandomOptions(seed.Get, BatchingPolicy.Continuous);
        var a = new ServingSimulator(Model, options).Run(workload);
        var b = new ServingSimulator(Model, options).Run(workload);
        return a.EndToEnd == b.EndToEnd && a.Ttft == b.Ttft && a.Iterations == b.Iterations
            && a.Preemptions == b.Preemptions && a.KvUtilization.SequenceEqual(b.KvUtilization);
    }

    [Property(MaxTest = 40)]
    public bool Fast_forwarding_decode_stretches_changes_nothing(PositiveInt seed, NonNegativeInt requests, NonNegativeInt rate)
    {
        var workload = RandomWorkload(seed.Get, 50 + requests.Get, rate.Get, 300) with
        {
            Arrivals = seed.Get % 4 == 1 ? ArrivalKind.ClosedLoop : ArrivalKind.Poisson,
            Users = 1 + seed.Get % 40,
        };
        var options = RandomOptions(seed.Get, BatchingPolicy.Continuous);
        var fast = new ServingSimulator(Model, options).Run(workload);
        var slow = new ServingSimulator(Model, options with { StepByStep = true }).Run(workload);
        return fast.EndToEnd == slow.EndToEnd && fast.Ttft == slow.Ttft && fast.Tpot == slow.Tpot
            && fast.Iterations == slow.Iterations && fast.Preemptions == slow.Preemptions
            && fast.PeakKvUtilization == slow.PeakKvUtilization && fast.MeanKvUtilization == slow.MeanKvUtilization
            && fast.KvUtilization.SequenceEqual(slow.KvUtilization) && fast.BatchSize.SequenceEqual(slow.BatchSize);
    }

    [Property(MaxTest = 25)]
    public bool Decoding_as_a_cohort_changes_nothing_in_large_batches_under_pressure(PositiveInt seed, NonNegativeInt requests)
    {
        // batches of hundreds, token budgets that cut chunked prompts, pools small enough to preempt: the cohort
        // path (aggregates, unfolding for per-request iterations) against every request stepped one by one
        int s = seed.Get;
        var workload = new Workload
        {
            Arrivals = (s % 3) switch { 0 => ArrivalKind.ClosedLoop, 1 => ArrivalKind.Gamma, _ => ArrivalKind.Poisson },
            Users = 32 + s % 400,
            ThinkSeconds = s % 5 == 0 ? 0.5 : 0,
            GammaCv = 2,
            Rate = 20 + s % 300,
            Requests = 300 + requests.Get % 1200,
            Seed = (ulong)s,
            PromptLength = LengthDistribution.Parse($"lognormal:{50 + s % 1500},0.8", "prompt"),
            OutputLength = LengthDistribution.Parse("lognormal:150,0.8", "output"),
        };
        var options = RandomOptions(s, BatchingPolicy.Continuous) with
        {
            MaxNumSeqs = 32 + s % 1000,
            MaxNumBatchedTokens = 256 + (s >> 4) % 8192,
            KvCacheTokens = 8_000 + (s >> 2) % 300_000,
        };
        var model = new ShapeSensitiveStepModel();
        var cohort = new ServingSimulator(model, options).Run(workload);
        var stepped = new ServingSimulator(model, options with { StepByStep = true }).Run(workload);
        return Identical(cohort, stepped);
    }

    /// <summary>Every field equal, the series and CDFs element by element.</summary>
    private static bool Identical(SimulationResult a, SimulationResult b) =>
        a with { KvUtilization = default, BatchSize = default, EndToEndCdf = default, TtftCdf = default }
            == b with { KvUtilization = default, BatchSize = default, EndToEndCdf = default, TtftCdf = default }
        && a.KvUtilization.SequenceEqual(b.KvUtilization) && a.BatchSize.SequenceEqual(b.BatchSize)
        && a.EndToEndCdf.SequenceEqual(b.EndToEndCdf) && a.TtftCdf.SequenceEqual(b.TtftCdf);

    [Property(MaxTest = 30)]
    public bool Continuous_batching_beats_static_at_saturation(PositiveInt seed, NonNegativeInt batch)
    {
        // every request waiting at t = 0: the replica is saturated; same batch limit and pool for both
        var workload = new Workload
        {
            Arrivals = ArrivalKind.Poisson, Rate = 1e6, Requests = 200, Seed = (ulong)seed.Get,
            PromptLength = LengthDistribution.Parse("uniform:50,1500", "prompt"),
            OutputLength = LengthDistribution.Parse("lognormal:200,0.8", "output"),
        };
        var options = new SchedulerOptions { KvCacheTokens = 200_000, MaxNumSeqs = 4 + batch.Get % 60 };
        var cont = new ServingSimulator(Model, options).Run(workload);
        var stat = new ServingSimulator(Model, options with { Policy = BatchingPolicy.Static }).Run(workload);
        return cont.OutputTokensPerSecond >= stat.OutputTokensPerSecond;
    }
}
