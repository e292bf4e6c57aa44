using System.Collections.Immutable;
using VramFit.Errors;
using VramFit.Simulation;

namespace VramFit.Tests.Simulation;

public class ServingSimulatorTests
{
    private static readonly LinearStepModel Model = new(0.010, 0.0001, 0.0005);

    private static Workload TraceOf(params TraceRequest[] requests) => new()
    {
        Arrivals = ArrivalKind.Trace,
        Trace = [.. requests],
    };

    private static SchedulerOptions Options(BatchingPolicy policy = BatchingPolicy.Continuous, long kvTokens = 1 << 20) =>
        new() { Policy = policy, KvCacheTokens = kvTokens };

    [Fact]
    public void One_request_ttft_is_the_prefill_step_and_e2e_adds_a_decode_step_per_further_token()
    {
        var sim = new ServingSimulator(Model, Options());
        var r = sim.Run(TraceOf(new TraceRequest(0, 1000, 11)));
        double prefill = 0.010 + 1000 * 0.0001, decode = 0.010 + 0.0005;
        Assert.Equal(prefill, r.Ttft.P50, 1e-12);
        Assert.Equal(prefill + 10 * decode, r.EndToEnd.P50, 1e-12);
        Assert.Equal(decode, r.Tpot.P50, 1e-12);
        Assert.Equal(0, r.Queueing.Max);
        Assert.Equal(11, r.Iterations);
    }

    [Fact]
    public void Chunked_prefill_splits_a_long_prompt_over_the_token_budget()
    {
        var sim = new ServingSimulator(Model, Options() with { MaxNumBatchedTokens = 512 });
        var r = sim.Run(TraceOf(new TraceRequest(0, 1200, 1)));
        // chunks of 512, 512, 176: three steps, each with the fixed cost
        Assert.Equal(3 * 0.010 + 1200 * 0.0001, r.Ttft.P50, 1e-12);
        Assert.Equal(3, r.Iterations);
    }

    [Fact]
    public void A_prompt_chunk_of_one_last_token_is_prefill_and_yields_the_first_token()
    {
        // 513 tokens over a 512-token budget: the second step computes the last prompt token alone; it is a
        // prefill step that samples the first token, not a decode step (fast-forwarding once priced it as
        // decode and never recorded the first token, giving TTFT = 0 − arrival)
        var sim = new ServingSimulator(Model, Options() with { MaxNumBatchedTokens = 512 });
        var r = sim.Run(TraceOf(new TraceRequest(0.5, 513, 10)));
        double ttft = 0.010 + 512 * 0.0001 + 0.010 + 1 * 0.0001, decode = 0.010 + 0.0005;
        Assert.Equal(ttft, r.Ttft.P50, 1e-12);
        Assert.Equal(ttft + 9 * decode, r.EndToEnd.P50, 1e-12);
        Assert.Equal(11, r.Iterations);
    }

    [Theory]
    [InlineData(BatchingPolicy.Static)]
    [InlineData(BatchingPolicy.Dynamic)]
    public void A_fixed_batch_is_padded_and_runs_to_its_longest_request(BatchingPolicy policy)
    {
        var sim = new ServingSimulator(Model, Options(policy) with { MaxNumSeqs = 4 });
        var r = sim.Run(TraceOf(
            new TraceRequest(0, 100, 5), new TraceRequest(0, 200, 3),
            new TraceRequest(0, 300, 9), new TraceRequest(0, 50, 2)));
        double prefill = 0.010 + 4 * 300 * 0.0001;   // padded to the longest prompt
        double decode = 0.010 + 4 * 0.0005;
        Assert.Equal(prefill, r.Ttft.Max, 1e-12);
        Assert.Equal(prefill, r.Ttft.P50, 1e-12);
        Assert.Equal(prefill + 8 * decode, r.EndToEnd.Max, 1e-12);
        if (policy == BatchingPolicy.Static)
            Assert.Equal(prefill + 8 * decode, r.EndToEnd.P50, 1e-12);   // every result waits for the batch
        else
            Assert.Equal(prefill + 2 * decode, r.EndToEnd.P50, 1e-12);       // outputs 2,3,5,9 leave after 1,2,4,8 decodes
        Assert.Equal(9, r.Iterations);
    }

    [Fact]
    public void Static_waits_for_a_full_batch_and_dynamic_closes_it_after_the_window()
    {
        var trace = TraceOf(new TraceRequest(0, 100, 1), new TraceRequest(1.0, 100, 1));
        var stat = new ServingSimulator(Model, Options(BatchingPolicy.Static) with { MaxNumSeqs = 2 }).Run(trace);
        var dyn = new ServingSimulator(Model, Options(BatchingPolicy.Dynamic) with { MaxNumSeqs = 2, BatchWindowSeconds = 0.2 }).Run(trace);
        double step1 = 0.010 + 100 * 0.0001, step2 = 0.010 + 200 * 0.0001;
        Assert.Equal(1.0 + step2, stat.Ttft.Max, 1e-12);               // first request waited 1 s for the second
        Assert.Equal(0.2 + step1, dyn.Ttft.Max, 1e-12);                // window closed at 0.2 s
    }

    [Fact]
    public void Poisson_single_server_queue_matches_the_md1_mean_wait()
    {
        // one request at a time, one output token: a deterministic service time D = 10 ms + 400 × 0.1 ms = 50 ms.
        // M/D/1 (Pollaczek–Khinchine): Wq = ρ·D / (2(1 − ρ)); at λ = 14/s, ρ = 0.7 ⇒ Wq = 58.3 ms
        const double d = 0.05, lambda = 14, rho = lambda * d;
        var sim = new ServingSimulator(Model, Options() with { MaxNumSeqs = 1 });
        var r = sim.Run(new Workload
        {
            Arrivals = ArrivalKind.Poisson, Rate = lambda, Requests = 40_000, Seed = 7,
            PromptLength = LengthDistribution.Fixed(400), OutputLength = LengthDistribution.Fixed(1),
        });
        double expected = rho * d / (2 * (1 - rho));
        Assert.InRange(r.Queueing.Mean, expected * 0.92, expected * 1.08);
        Assert.Equal(d, r.EndToEnd.Mean - r.Queueing.Mean, 1e-9);
    }

    [Fact]
    public void A_small_pool_forces_preemptions_and_swap_costs_pcie_time()
    {
        var workload = new Workload
        {
            Arrivals = ArrivalKind.Poisson, Rate = 1000, Requests = 64, Seed = 3,
            PromptLength = LengthDistribution.Fixed(100), OutputLength = LengthDistribution.Fixed(400),
        };
        var recompute = new ServingSimulator(Model, Options(kvTokens: 4096)).Run(workload);
        Assert.True(recompute.Preemptions > 0);
        Assert.Equal(64, recompute.Completed);
        Assert.True(recompute.PeakKvUtilization <= 1);
        var swap = new ServingSimulator(Model, Options(kvTokens: 4096) with
        {
            Preemption = PreemptionMode.Swap, KvBytesPerToken = 131072, SwapGBps = 25,
        }).Run(workload);
        Assert.True(swap.Preemptions > 0);
        Assert.Equal(64, swap.Completed);
    }

    [Fact]
    public void Prefix_caching_skips_the_shared_part_of_later_prompts()
    {
        var workload = new Workload
        {
            Arrivals = ArrivalKind.Poisson, Rate = 2, Requests = 50, Seed = 5,
            PromptLength = LengthDistribution.Fixed(2000), OutputLength = LengthDistribution.Fixed(10),
        };
        var cold = new ServingSimulator(Model, Options()).Run(workload);
        var warm = new ServingSimulator(Model, Options() with { PrefixCaching = true, SharedPrefixRatio = 0.5 }).Run(workload);
        // 1000 shared tokens = 62 whole blocks of 16 = 992 tokens skipped by every request after the first
        Assert.Equal(49 * 992, warm.PrefixCacheHitTokens);
        Assert.Equal(0.010 + 2000 * 0.0001, cold.TtftCdf[0], 1e-9);                  // fastest cold prefill
        Assert.Equal(0.010 + (2000 - 992) * 0.0001, warm.TtftCdf[0], 1e-9);       // fastest warm prefill
        Assert.True(warm.Ttft.Mean < cold.Ttft.Mean);
    }

    [Fact]
    public void Requests_longer_than_the_pool_are_rejected_not_lost()
    {
        var r = new ServingSimulator(Model, Options(kvTokens: 1024)).Run(TraceOf(
            new TraceRequest(0, 100, 10), new TraceRequest(0.1, 2000, 10)));
        Assert.Equal(1, r.Completed);
        Assert.Equal(1, r.Rejected);
        var noChunk = new ServingSimulator(Model, Options() with { ChunkedPrefill = false, MaxNumBatchedTokens = 512 })
            .Run(TraceOf(new TraceRequest(0, 600, 1)));
        Assert.Equal(1, noChunk.Rejected);
    }

    [Fact]
    public void Closed_loop_keeps_at_most_the_users_in_flight()
    {
        var r = new ServingSimulator(Model, Options()).Run(new Workload
        {
            Arrivals = ArrivalKind.ClosedLoop, Users = 4, Requests = 200,
            PromptLength = LengthDistribution.Fixed(100), OutputLength = LengthDistribution.Fixed(20),
        });
        Assert.Equal(200, r.Completed);
        Assert.All(r.BatchSize, p => Assert.InRange(p.Value, 0, 4.000001));
        Assert.Equal(0, r.Queueing.Max);
    }

    [Fact]
    public void Bad_options_are_user_errors()
    {
        Assert.Throws<InvalidSettingException>(() => new ServingSimulator(Model, Options(kvTokens: 8)));
        Assert.Throws<InvalidSettingException>(() => new ServingSimulator(Model, Options() with { Preemption = PreemptionMode.Swap }));
        Assert.Throws<InvalidSettingException>(() => new Workload { Rate = 0 }.Generate());
    }

    [Fact]
    public void Rate_sweep_finds_the_knee_of_the_md1_queue()
    {
        // service 50 ms, one at a time: the mean wait passes 100 ms at ρ = 0.8 (λ = 16/s)
        var sim = new ServingSimulator(Model, Options() with { MaxNumSeqs = 1 });
        var workload = new Workload
        {
            Requests = 4000, Seed = 11,
            PromptLength = LengthDistribution.Fixed(400), OutputLength = LengthDistribution.Fixed(1),
        };
        var sweep = RateSweep.Find(sim, workload, new LatencySlo { TtftSeconds = 0.15, Percentile = 50 }, startRate: 2);
        Assert.InRange(sweep.MaxRate, 12, 19);
        Assert.True(sweep.Points.Length > 5);
        Assert.All(sweep.Points.Where(p => p.Rate <= sweep.MaxRate), p => Assert.True(p.MeetsSlo || p.Rate > sweep.MaxRate));
    }

    [Fact]
    public void The_pool_comes_from_an_engine_serving_capacity()
    {
        var capacity = new VramFit.Reports.ServingCapacity { KvCacheBytes = 1L << 30, KvCacheTokens = 8192, GpuBlocks = 512, BlockSize = 16, MaxConcurrency = 2 };
        var options = SchedulerOptions.FromCapacity(capacity);
        Assert.Equal(512, options.TotalBlocks);
        Assert.Throws<InvalidSettingException>(() => SchedulerOptions.FromCapacity(capacity with { EngineError = "no memory" }));
    }

    [Fact]
    public void Vllm_serve_defaults_depend_on_the_device()
    {
        var h100 = SchedulerOptions.VllmServeDefaults(VramFit.Tests.Performance.TestAccelerators.H100Sxm, 100_000);
        var a100 = SchedulerOptions.VllmServeDefaults(VramFit.Tests.Performance.TestAccelerators.A100Sxm, 100_000);
        Assert.Equal((1024, 8192), (h100.MaxNumSeqs, h100.MaxNumBatchedTokens));
        Assert.Equal((256, 2048), (a100.MaxNumSeqs, a100.MaxNumBatchedTokens));
    }

    [Theory]
    [InlineData(PreemptionMode.Recompute)]
    [InlineData(PreemptionMode.Swap)]
    public void Requests_that_each_fit_the_pool_alone_all_complete_under_pressure(PreemptionMode mode)
    {
        // each request needs 10 blocks of 16 at its end; the pool has 13, so they cannot all run together,
        // and a shared prefix of 3 blocks is cached between them
        var options = Options(kvTokens: 13 * 16) with
        {
            PrefixCaching = true, SharedPrefixRatio = 0.5, Preemption = mode, KvBytesPerToken = 1000,
        };
        var r = new ServingSimulator(Model, options).Run(TraceOf(
            new TraceRequest(0, 100, 60), new TraceRequest(0.01, 100, 60), new TraceRequest(0.02, 100, 60)));
        Assert.Equal(3, r.Completed);
        Assert.Equal(0, r.Rejected);
        Assert.True(r.Preemptions > 0);
    }

    [Fact]
    public void Unreferenced_cached_prefix_blocks_are_evicted_for_a_request_that_needs_them()
    {
        // the first request caches a 5-block prefix (170 × 0.5 = 85 tokens) and leaves; the second uses 3 of those
        // blocks and needs 10 blocks at its end: 11 blocks fit it only once the 2 unused cached blocks are evicted
        var options = Options(kvTokens: 11 * 16) with { PrefixCaching = true, SharedPrefixRatio = 0.5 };
        var r = new ServingSimulator(Model, options).Run(TraceOf(
            new TraceRequest(0, 170, 1), new TraceRequest(10, 100, 60)));
        Assert.Equal(2, r.Completed);
        Assert.Equal(0, r.Rejected);
        Assert.Equal(0, r.Preemptions);
        Assert.Equal(48, r.PrefixCacheHitTokens);
    }
}
