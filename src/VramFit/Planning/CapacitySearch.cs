using VramFit.Engines;
using VramFit.Errors;
using VramFit.Reports;

namespace VramFit.Planning;

/// <summary>The direct answers: the longest context, or the most concurrent sequences, that still fit.</summary>
public static class CapacitySearch
{
    /// <summary>The answer with the report at that size (null when even the smallest does not fit).</summary>
    public sealed record Answer(long Value, MemoryReport? Report, string Explanation);

    /// <summary>Longest context (tokens per sequence) at the request's batch that fits with <paramref name="marginFraction"/>.</summary>
    public static Answer MaxContext(IEngineModel engine, EstimateRequest request, double marginFraction = 0.05, long limit = 0)
    {
        if (limit <= 0)
            limit = request.Model.MaxContext > 0 ? request.Model.MaxContext : 1 << 20;
        return Search(1, limit, n => request with { Workload = request.Workload with { ContextTokens = n } },
            engine, request, marginFraction, "context", limit == request.Model.MaxContext ? "the model's trained context" : "the search limit");
    }

    /// <summary>Most concurrent sequences at the request's context that fit.</summary>
    public static Answer MaxConcurrency(IEngineModel engine, EstimateRequest request, double marginFraction = 0.05, long limit = 1 << 16) =>
        Search(1, limit, n => request with { Workload = request.Workload with { Batch = (int)n } }, engine, request, marginFraction, "concurrency", "the search limit");

    private static Answer Search(long lo, long hi, Func<long, EstimateRequest> at, IEngineModel engine, EstimateRequest request, double margin, string what, string limitName)
    {
        var planRequest = new PlanRequest
        {
            Model = request.Model,
            Gpu = request.Deployment.Gpu,
            MarginFraction = margin,
            Concurrency = Math.Max(1, request.Workload.Batch ?? 1),
            HostMemoryBytes = request.Deployment.HostMemoryBytes,
        };
        if (request.Deployment.UsableBytesPerGpu <= 0)
            throw new InvalidSettingException("gpu", $"max {what} needs a GPU with a known size (--gpu h100-sxm or --gpu 24GiB)");
        (bool Fits, MemoryReport? Report) Try(long n)
        {
            var r = at(n);
            var pr = what == "concurrency" ? planRequest with { Concurrency = (int)n } : planRequest;
            try
            {
                var report = engine.Estimate(r);
                return (Planner.Fits(report, pr, out _), report);
            }
            catch (InvalidSettingException)
            {
                return (false, null);
            }
        }

        var first = Try(lo);
        if (!first.Fits)
            return new Answer(0, first.Report, $"even {what} {lo} does not fit");
        var last = Try(hi);
        if (last.Fits)
            return new Answer(hi, last.Report, $"{what} {hi} fits: that is {limitName}");
        MemoryReport? best = first.Report;
        while (lo + 1 < hi)
        {
            long mid = lo + (hi - lo) / 2;
            var t = Try(mid);
            if (t.Fits)
            {
                lo = mid;
                best = t.Report;
            }
            else
            {
                hi = mid;
            }
        }

        return new Answer(lo, best, $"{what} {lo} fits with {margin:P0} margin; {lo + 1} does not");
    }
}
