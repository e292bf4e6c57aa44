using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using VramFit.Cli.Charts;
using VramFit.Errors;
using VramFit.Simulation;
using VramFit.Planning;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Hardware;
using VramFit.Performance;
using VramFit.Units;

namespace VramFit.Cli.Commands;

/// <summary>
/// <c>vramfit simulate &lt;model&gt; --gpu … --policy continuous|dynamic|static --rate 5 --prompt-len lognormal:1000,0.5
/// --output-len … --requests 10000 [--compare] [--sweep --slo-ttft 2] [--json] [--chart out.svg]</c>.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(CliContext context)
    {
        var setup = new PerformanceSetupOptions();
        var policy = new Option<string>("--policy") { Description = "continuous, dynamic or static", DefaultValueFactory = _ => "continuous" };
        var compare = new Option<bool>("--compare") { Description = "Run all three policies on the same requests" };
        var rate = new Option<double>("--rate") { Description = "Requests per second (open loop)", DefaultValueFactory = _ => 5 };
        var arrivals = new Option<string>("--arrivals") { Description = "poisson, gamma or closed (closed loop of --users)", DefaultValueFactory = _ => "poisson" };
        var burstiness = new Option<double>("--burstiness-cv") { Description = "Gamma arrivals: coefficient of variation of gaps (1 = Poisson)", DefaultValueFactory = _ => 1 };
        var users = new Option<int>("--users") { Description = "Closed loop: concurrent users", DefaultValueFactory = _ => 16 };
        var think = new Option<double>("--think-time") { Description = "Closed loop: mean think time, seconds" };
        var promptLen = new Option<string>("--prompt-len") { Description = "N, uniform:a,b, normal:mean,sd, lognormal:mean,sigma or file:path", DefaultValueFactory = _ => "lognormal:1000,0.5" };
        var outputLen = new Option<string>("--output-len") { Description = "Same forms as --prompt-len", DefaultValueFactory = _ => "lognormal:250,0.5" };
        var requests = new Option<int>("--requests") { Description = "Requests to simulate", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same result)", DefaultValueFactory = _ => 1UL };
        var trace = new Option<string?>("--trace") { Description = "Replay a JSONL or CSV trace (arrival, prompt_tokens, output_tokens)" };
        var kvTokens = new Option<string?>("--kv-tokens") { Description = "KV pool size in tokens, e.g. 450k (default: the --engine's serving capacity on this GPU)" };
        var engine = new Option<string>("--engine", "-e") { Description = "Serving engine whose KV pool is simulated (vllm, sglang, tensorrt-llm, tgi)", DefaultValueFactory = _ => "vllm" };
        var maxModelLen = new Option<string>("--max-model-len") { Description = "Longest request the engine is started for (sizes its pool)", DefaultValueFactory = _ => "8192" };
        var blockSize = new Option<int>("--block-size") { Description = "Tokens per KV block", DefaultValueFactory = _ => 16 };
        var maxSeqs = new Option<int?>("--max-num-seqs") { Description = "Most sequences per batch (default: vllm serve's for the GPU, 256 or 1024)" };
        var maxTokens = new Option<int?>("--max-num-batched-tokens") { Description = "Most tokens per iteration (default: vllm serve's for the GPU, 2048 or 8192)" };
        var noChunk = new Option<bool>("--no-chunked-prefill") { Description = "Prefill whole prompts only" };
        var preemption = new Option<string>("--preemption") { Description = "recompute or swap", DefaultValueFactory = _ => "recompute" };
        var swapGbps = new Option<double>("--swap-gbps") { Description = "Swap bandwidth to host, GB/s", DefaultValueFactory = _ => 25 };
        var sharedPrefix = new Option<double?>("--shared-prefix") { Description = "Turn prefix caching on; share of each prompt common to all requests (0–1)" };
        var window = new Option<double>("--batch-window") { Description = "Dynamic batching window, seconds", DefaultValueFactory = _ => 0.05 };
        var sweep = new Option<bool>("--sweep") { Description = "Find the highest rate meeting the --slo-* targets" };
        var sloTtft = new Option<double?>("--slo-ttft") { Description = "TTFT target, seconds" };
        var sloTpot = new Option<double?>("--slo-tpot") { Description = "TPOT target, seconds" };
        var sloE2e = new Option<double?>("--slo-e2e") { Description = "End-to-end target, seconds" };
        var sloPct = new Option<double>("--slo-percentile") { Description = "50, 90 or 99", DefaultValueFactory = _ => 90 };
        var json = new Option<bool>("--json") { Description = "Print JSON (time series included)" };
        var chart = new Option<string?>("--chart") { Description = "Write charts: out.svg or out.png (KV use; .latency, .batch, .sweep files beside it)" };
        var command = new Command("simulate", "Simulate serving traffic under static, dynamic or continuous batching with a paged KV pool")
        {
            setup.Model, policy, compare, rate, arrivals, burstiness, users, think, promptLen, outputLen, requests, seed, trace,
            kvTokens, engine, maxModelLen, blockSize, maxSeqs, maxTokens, noChunk, preemption, swapGbps, sharedPrefix, window,
            sweep, sloTtft, sloTpot, sloE2e, sloPct, json, chart,
        };
        setup.AddTo(command);
        command.SetAction((parse, cancellation) =>
        {
            var model = setup.ResolveModel(parse);
            var chosen = ParsePolicy(parse.GetValue(policy)!);
            var workload = new Workload
            {
                Arrivals = parse.GetValue(trace) is not null ? ArrivalKind.Trace : ParseArrivals(parse.GetValue(arrivals)!),
                Rate = parse.GetValue(rate),
                GammaCv = parse.GetValue(burstiness),
                Users = parse.GetValue(users),
                ThinkSeconds = parse.GetValue(think),
                PromptLength = LengthDistribution.Parse(parse.GetValue(promptLen)!, "prompt-len"),
                OutputLength = LengthDistribution.Parse(parse.GetValue(outputLen)!, "output-len"),
                Requests = parse.GetValue(requests),
                Seed = parse.GetValue(seed),
                Trace = parse.GetValue(trace) is { } path ? TraceReader.Read(path) : [],
            };
            var gpu = setup.ResolveGpu(parse);
            var layout = setup.Layout(parse);
            long pool = parse.GetValue(kvTokens) is { } given
                ? TokenCount.Parse(given, "kv-tokens")
                : EngineKvPool.Tokens(parse.GetValue(engine)!, model, gpu, setup.Format(parse, model), parse.GetValue(setup.KvCacheOption), layout,
                    TokenCount.Parse(parse.GetValue(maxModelLen)!, "max-model-len"));
            var defaults = SchedulerOptions.VllmServeDefaults(gpu, pool);
            var scenario = new ServingScenario
            {
                Model = model,
                Format = setup.Format(parse, model),
                KvCacheType = setup.KvType(parse),
                Gpu = gpu,
                Layout = setup.Layout(parse),
                Efficiency = setup.Efficiency(parse),
                Offload = setup.Offload(parse),
                Workload = workload,
                Scheduler = defaults with
                {
                    Policy = chosen,
                    BlockSize = parse.GetValue(blockSize),
                    MaxNumSeqs = parse.GetValue(maxSeqs) ?? defaults.MaxNumSeqs,
                    MaxNumBatchedTokens = parse.GetValue(maxTokens) ?? defaults.MaxNumBatchedTokens,
                    ChunkedPrefill = !parse.GetValue(noChunk),
                    Preemption = parse.GetValue(preemption)?.ToLowerInvariant() switch
                    {
                        "recompute" => PreemptionMode.Recompute,
                        "swap" => PreemptionMode.Swap,
                        var other => throw new InvalidSettingException("preemption", $"'{other}': use recompute or swap"),
                    },
                    SwapGBps = parse.GetValue(swapGbps),
                    PrefixCaching = parse.GetValue(sharedPrefix) is not null,
                    SharedPrefixRatio = parse.GetValue(sharedPrefix) ?? 0,
                    BatchWindowSeconds = parse.GetValue(window),
                },
            };
            BatchingPolicy[] policies = parse.GetValue(compare)
                ? [BatchingPolicy.Static, BatchingPolicy.Dynamic, BatchingPolicy.Continuous]
                : [chosen];
            LatencySlo? slo = parse.GetValue(sweep)
                ? new LatencySlo
                {
                    TtftSeconds = parse.GetValue(sloTtft),
                    TpotSeconds = parse.GetValue(sloTpot),
                    EndToEndSeconds = parse.GetValue(sloE2e),
                    Percentile = parse.GetValue(sloPct),
                }
                : null;
            bool asJson = parse.GetValue(json);
            var result = RunWithProgress(context, scenario, policies, slo, showBar: !asJson, cancellation);
            if (parse.GetValue(chart) is { } chartPath)
                SimulationCharts.Write(chartPath, result);
            if (asJson)
                context.Out.WriteLine(JsonSerializer.Serialize(result, PerformanceJsonContext.Default.ServingStudyResult));
            else
                Render(context.Out, result);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>
    /// The KV pool in tokens. Engine estimates (<c>ServingCapacity.KvCacheTokens</c>) live on another branch; until
    /// they are wired here the size is given with <c>--kv-tokens</c>.
    /// </summary>

    private static ServingStudyResult RunWithProgress(CliContext context, ServingScenario scenario, BatchingPolicy[] policies,
        LatencySlo? slo, bool showBar, CancellationToken cancellation)
    {
        bool terminal = showBar && ReferenceEquals(context.Out, Console.Out) && !Console.IsOutputRedirected;
        if (!terminal)
            return ServingStudy.Run(scenario, policies, slo, null, cancellation);
        ServingStudyResult? result = null;
        Consoles.For(context.Out).Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask("simulating", maxValue: 1);
            result = ServingStudy.Run(scenario, policies, slo, new ProgressBar(task), cancellation);
        });
        return result!;
    }

    private sealed class ProgressBar(ProgressTask task) : IProgress<double>
    {
        public void Report(double value) => task.Value = value;
    }

    private static BatchingPolicy ParsePolicy(string text) => text.ToLowerInvariant() switch
    {
        "continuous" => BatchingPolicy.Continuous,
        "dynamic" => BatchingPolicy.Dynamic,
        "static" => BatchingPolicy.Static,
        _ => throw new InvalidSettingException("policy", $"'{text}': use continuous, dynamic or static"),
    };

    private static ArrivalKind ParseArrivals(string text) => text.ToLowerInvariant() switch
    {
        "poisson" => ArrivalKind.Poisson,
        "gamma" => ArrivalKind.Gamma,
        "closed" or "closed-loop" => ArrivalKind.ClosedLoop,
        _ => throw new InvalidSettingException("arrivals", $"'{text}': use poisson, gamma or closed"),
    };

    private static void Render(TextWriter writer, ServingStudyResult study)
    {
        var console = Consoles.For(writer);
        var p = study.Performance;
        console.WriteLine($"{p.Model} ({p.WeightFormat}) on {p.Gpu}, TP={p.TensorParallel}: prefill {PerfCommand.Ms(p.TtftSeconds)} for {p.PromptTokens} tokens, "
            + $"decode step {PerfCommand.Ms(p.TpotSeconds)} at batch {p.Batch}");
        if (study.Runs.Length > 0)
        {
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("metric");
            foreach (var run in study.Runs)
                table.AddColumn(new TableColumn(run.Policy.ToString().ToLowerInvariant()).RightAligned());
            void Row(string name, Func<SimulationResult, string> cell) =>
                table.AddRow([name, .. study.Runs.Select(cell)]);
            Row("completed / rejected", r => $"{r.Completed} / {r.Rejected}");
            Row("throughput req/s", r => PerfCommand.Rate(r.RequestsPerSecond));
            Row("output tok/s", r => PerfCommand.Rate(r.OutputTokensPerSecond));
            Row("total tok/s", r => PerfCommand.Rate(r.TotalTokensPerSecond));
            foreach (var (label, pick) in new (string, Func<SimulationResult, LatencyStats>)[]
                     { ("TTFT", r => r.Ttft), ("TPOT", r => r.Tpot), ("E2E", r => r.EndToEnd), ("queueing", r => r.Queueing) })
            {
                Row($"{label} p50 / p90 / p99", r => $"{Sec(pick(r).P50)} / {Sec(pick(r).P90)} / {Sec(pick(r).P99)}");
            }

            Row("preemptions", r => r.Preemptions.ToString(CultureInfo.InvariantCulture));
            Row("prefix-cache hit tokens", r => r.PrefixCacheHitTokens.ToString(CultureInfo.InvariantCulture));
            Row("KV use mean / peak", r => $"{r.MeanKvUtilization:P0} / {r.PeakKvUtilization:P0}");
            Row("mean batch size", r => r.MeanBatchSize.ToString("0.0", CultureInfo.InvariantCulture));
            Row("iterations", r => r.Iterations.ToString(CultureInfo.InvariantCulture));
            Row("simulated time", r => Sec(r.DurationSeconds));
            console.Write(table);
        }

        if (study.Sweep is { } sweep)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "rate req/s", "meets SLO", "req/s", "TTFT p90", "TPOT p90", "E2E p90" })
                table.AddColumn(new TableColumn(column).RightAligned());
            foreach (var point in sweep.Points)
            {
                var r = point.Result;
                table.AddRow(point.Rate.ToString("0.00", CultureInfo.InvariantCulture), point.MeetsSlo ? "yes" : "no", PerfCommand.Rate(r.RequestsPerSecond),
                    Sec(r.Ttft.P90), Sec(r.Tpot.P90), Sec(r.EndToEnd.P90));
            }

            console.Write(table);
            console.WriteLine(sweep.MaxRate > 0
                ? $"Highest rate meeting the target: {sweep.MaxRate.ToString("0.00", CultureInfo.InvariantCulture)} req/s"
                : "No rate meets the target.");
        }
    }

    private static string Sec(double seconds) => seconds < 1
        ? (seconds * 1000).ToString("0.0", CultureInfo.InvariantCulture) + " ms"
        : seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
