using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VramFit.Engines;
using VramFit.Models;
using VramFit.Performance;
using VramFit.Planning;
using VramFit.Simulation;
using VramFit.Units;

namespace VramFit.Web.Api;

/// <summary><c>/api/plan</c> and <c>/api/simulate</c>: the planner and the serving simulator over HTTP, with size limits.</summary>
internal static class PlanEndpoints
{
    /// <summary>Most requests one simulation may run from the web page (the CLI has no such limit).</summary>
    public const int MaxSimulatedRequests = 20_000;

    public static void Map(WebApplication app)
    {
        app.MapGet("/api/plan", (HttpRequest request, WebOptions options) =>
        {
            var q = request.Query;
            var input = QueryBinding.Input(request);
            var deployment = input.ResolveDeployment();
            using var timeout = Timeout(request, options);
            var result = Planner.Plan(new PlanRequest
            {
                Model = ModelLookup.Resolve(input.Model),
                Gpu = deployment.Gpu,
                GpusPerNode = deployment.GpuCount,
                Nodes = deployment.Nodes,
                ContextTokens = input.Context is null ? 8192 : TokenCount.Parse(input.Context, "context"),
                Concurrency = QueryBinding.Int(q, "concurrency", 1, 1, 4096)!.Value,
                HostMemoryBytes = QueryBinding.Text(q, "cpuRam") is { } ram ? ByteSize.Parse(ram, "cpuRam").Bytes : 0,
                Goal = (QueryBinding.Text(q, "goal") ?? "throughput") switch
                {
                    "throughput" => PlanGoal.Throughput,
                    "latency" => PlanGoal.Latency,
                    "fewest-gpus" => PlanGoal.FewestGpus,
                    "quality" => PlanGoal.Quality,
                    var other => throw new BadRequestException($"goal: '{other}' is not throughput, latency, fewest-gpus or quality"),
                },
                Engines = q["engines"].Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e!).ToList() is { Count: > 0 } engines ? engines : null,
                MaxOptions = QueryBinding.Int(q, "top", 10, 1, 50)!.Value,
            }, timeout.Token);
            return Results.Text(PlanDocument.From(result).ToJson(), "application/json; charset=utf-8");
        });

        app.MapGet("/api/simulate", (HttpRequest request, WebOptions options) =>
        {
            var q = request.Query;
            var input = QueryBinding.Input(request);
            var model = ModelLookup.Resolve(input.Model);
            var gpu = input.ResolveDeployment().Gpu;
            if (!(gpu.MemoryBandwidthGBps > 0))
                throw new BadRequestException("gpu: the simulator needs a catalog GPU (its bandwidth and throughput), e.g. h100-sxm");
            int tp = QueryBinding.Int(q, "tp", 1, 1, 64)!.Value;
            var layout = new ParallelLayout { TensorParallel = tp };
            var format = input.Quant is null ? null : Numerics.WeightFormat.Parse(input.Quant, model.Dtype);
            long pool = EngineKvPool.Tokens(input.Engine is null or "transformers" or "llama.cpp" ? "vllm" : input.Engine, model, gpu, format, input.KvDtype, layout,
                TokenCount.Parse(QueryBinding.Text(q, "maxModelLen") ?? "8192", "maxModelLen"));
            var workload = new Simulation.Workload
            {
                Rate = Double(q, "rate", 2, 0.001, 10_000),
                PromptLength = LengthDistribution.Parse(QueryBinding.Text(q, "promptLen") ?? "lognormal:1000,0.5", "promptLen"),
                OutputLength = LengthDistribution.Parse(QueryBinding.Text(q, "outputLen") ?? "lognormal:250,0.5", "outputLen"),
                Requests = QueryBinding.Int(q, "requests", 1000, 1, MaxSimulatedRequests)!.Value,
                Seed = (ulong)QueryBinding.Int(q, "seed", 1, 0, int.MaxValue)!.Value,
            };
            var policies = (QueryBinding.Text(q, "policy") ?? "compare") switch
            {
                "compare" => new[] { BatchingPolicy.Static, BatchingPolicy.Dynamic, BatchingPolicy.Continuous },
                "static" => [BatchingPolicy.Static],
                "dynamic" => [BatchingPolicy.Dynamic],
                "continuous" => [BatchingPolicy.Continuous],
                var other => throw new BadRequestException($"policy: '{other}' is not static, dynamic, continuous or compare"),
            };
            using var timeout = Timeout(request, options);
            var scenario = new ServingScenario
            {
                Model = model,
                Format = format,
                KvCacheType = Planner.KvScalar(input.KvDtype, model.Dtype),
                Gpu = gpu,
                Layout = layout,
                Workload = workload,
                Scheduler = SchedulerOptions.VllmServeDefaults(gpu, pool),
            };
            var result = ServingStudy.Run(scenario, policies, null, null, timeout.Token);
            return Results.Json(result, PerformanceJsonContext.Default.ServingStudyResult);
        });
    }

    private static CancellationTokenSource Timeout(HttpRequest request, WebOptions options)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted);
        cts.CancelAfter(options.RequestTimeout);
        return cts;
    }

    private static double Double(IQueryCollection q, string name, double fallback, double min, double max)
    {
        var text = QueryBinding.Text(q, name);
        if (text is null)
            return fallback;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new BadRequestException($"{name}: '{text}' is not a number");
        return v >= min && v <= max ? v : throw new BadRequestException($"{name}: {v} is out of range [{min}, {max}]");
    }
}
