using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Performance;
using VramFit.Reports;

namespace VramFit.Planning;

/// <summary>
/// <c>vramfit plan</c>: tries every configuration of <see cref="SearchSpace"/> on each engine model, keeps those
/// that fit with the margin and serve the requested context and concurrency, prices them with the roofline
/// <see cref="PerformanceModel"/>, and ranks them by the goal, marking the Pareto front (throughput, latency,
/// GPUs, quality). For llama.cpp, when the model does not fit whole, it finds how many layers (or which MoE
/// experts) to keep on the GPUs, as llama.cpp's own <c>--fit</c> does, and prices the offload.
/// </summary>
public static class Planner
{
    public static PlanResult Plan(PlanRequest request, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var engines = EngineCatalog.All.Where(e => SearchSpace.Engines.Contains(e.Id)
            && (request.Engines is null || request.Engines.Any(id => EngineCatalog.Get(id).Id == e.Id))).ToList();
        var notes = new List<string>();
        if (request.Engines is not null)
            foreach (var id in request.Engines)
                if (!SearchSpace.Engines.Contains(EngineCatalog.Get(id).Id))
                    notes.Add($"engine {id} has no plan search space");

        var rejections = new Dictionary<string, int>(StringComparer.Ordinal);
        var options = new List<PlanOption>();
        int evaluated = 0;
        foreach (var engine in engines)
        {
            foreach (var candidate in SearchSpace.Candidates(engine, request))
            {
                cancel.ThrowIfCancellationRequested();
                evaluated++;
                var (option, reason) = Evaluate(engine, candidate, request, ref evaluated);
                if (option is not null)
                    options.Add(option);
                else
                    rejections[reason!] = rejections.GetValueOrDefault(reason!) + 1;
            }
        }

        var ranked = Rank(MarkPareto(options), request.Goal);
        var shown = ranked.Take(request.MaxOptions).ToList();
        foreach (var p in ranked.Skip(request.MaxOptions).Where(o => o.Pareto).Take(request.MaxOptions))
            shown.Add(p);
        if (options.Count == 0)
            notes.Add("nothing fits: more or larger GPUs, a shorter context, lower concurrency, or host memory for offload");
        return new PlanResult { Request = request, Options = shown, CandidatesEvaluated = evaluated, Rejections = rejections, Notes = notes };
    }

    private static (PlanOption? Option, string? Reason) Evaluate(IEngineModel engine, PlanCandidate candidate, PlanRequest request, ref int evaluated)
    {
        if (candidate.GpusPerReplica > request.TotalGpus)
            return (null, "needs more GPUs than given");
        // llama.cpp can offload to the host, so the screen's "all on the GPUs" bound does not apply to it
        if (engine.Id != "llama.cpp"
            && Screen(request.Model, candidate.Format).CannotFit(request.ContextTokens, request.Concurrency, KvBits(candidate.KvCache, request.Model.Dtype),
                candidate.GpusPerReplica, (long)(request.Gpu.MemoryBytes * (1 - request.MarginFraction))))
            return (null, "weights and KV alone exceed the GPUs (screen)");
        MemoryReport report;
        try
        {
            report = engine.Estimate(SearchSpace.Request(engine, candidate, request));
        }
        catch (VramFitException e)
        {
            return (null, $"{engine.Id}: {FirstClause(e.Message)}");
        }

        var notes = new List<string>();
        if (!Fits(report, request, out var why))
        {
            if (engine.Id != "llama.cpp")
                return (null, why);
            // llama.cpp runs what does not fit on the CPU: find the split that does (experts first, then layers)
            var offloaded = FitWithOffload(engine, candidate, request, ref evaluated);
            if (offloaded is null)
                return (null, "does not fit even with CPU offload");
            (candidate, report) = offloaded.Value;
            if (candidate.CpuMoeLayers > 0)
                notes.Add($"experts of {candidate.CpuMoeLayers} MoE layers run from host memory");
            if (candidate.GpuLayers is { } onGpu)
                notes.Add($"{onGpu} of {request.Model.Layers.Length + 1} layers on the GPU, the rest on the CPU");
        }

        var accelerators = report.Accelerators.ToList();
        long peak = accelerators.Max(d => d.TotalBytes);
        long headroom = accelerators.Min(d => d.HeadroomBytes);
        return (new PlanOption
        {
            Candidate = candidate,
            Memory = report,
            PeakGpuBytes = peak,
            MinHeadroomBytes = headroom,
            Performance = Price(candidate, request),
            // replicas share the host: with part of the model on the CPU, a second copy competes for the same CPU and RAM
            Replicas = candidate.GpuLayers is not null || candidate.CpuMoeLayers > 0 ? 1 : Math.Max(1, request.TotalGpus / candidate.GpusPerReplica),
            WeightQuality = QualityNotes.ForWeights(candidate.Format),
            KvQuality = QualityNotes.ForKvCache(candidate.KvCache),
            Notes = notes,
        }, null);
    }

    /// <summary>Fits with the margin on every GPU, and (serving engines) the KV pool serves the concurrency.</summary>
    public static bool Fits(MemoryReport report, PlanRequest request, out string reason)
    {
        if (report.Capacity is { } c)
        {
            if (c.EngineError is not null)
            {
                reason = $"{report.Engine}: would not start ({FirstClause(c.EngineError)})";
                return false;
            }

            if (c.MaxConcurrency + 1e-9 < request.Concurrency)
            {
                reason = $"{report.Engine}: KV pool too small for the concurrency";
                return false;
            }
        }

        // engines with a KV pool size it to their own memory fraction (gpu_memory_utilization …): that fraction is
        // their margin, and the pool fills the rest by design
        double margin = report.Capacity is null ? request.MarginFraction : 0;
        foreach (var d in report.Accelerators)
        {
            if (d.CapacityBytes > 0 && d.TotalBytes > (long)(d.CapacityBytes * (1 - margin)))
            {
                reason = "does not fit with the margin";
                return false;
            }
        }

        foreach (var d in report.Devices.Where(d => !d.IsAccelerator))
        {
            if (request.HostMemoryBytes > 0 && d.TotalBytes > request.HostMemoryBytes)
            {
                reason = "host memory too small for the offloaded part";
                return false;
            }
        }

        reason = "";
        return true;
    }

    /// <summary>
    /// Where llama.cpp runs part of the model on the CPU: its own auto-fit (<see cref="LlamaCppAutoFit"/>: MoE experts
    /// to the host first, then whole layers) at exactly the requested context, with the plan's margin.
    /// </summary>
    private static (PlanCandidate, MemoryReport)? FitWithOffload(IEngineModel engine, PlanCandidate candidate, PlanRequest request, ref int evaluated)
    {
        var estimate = SearchSpace.Request(engine, candidate, request);
        var fit = LlamaCppAutoFit.Fit(new LlamaCppFitRequest
        {
            Model = estimate.Model,
            Deployment = estimate.Deployment,
            Settings = estimate.Settings,
            WeightFormat = estimate.Workload.WeightFormat,
            MarginBytes = (long)(request.Gpu.MemoryBytes * request.MarginFraction),
            MinContext = request.ContextTokens,
            MaxContext = request.ContextTokens,
            IkLlama = engine.Id == "ik_llama.cpp",
        });
        evaluated++;
        if (!fit.Fits || fit.GpuLayers == 0 || !Fits(fit.Report, request, out _))
            return null;
        int all = request.Model.Layers.Length + 1;
        return (candidate with { GpuLayers = fit.GpuLayers >= all ? null : fit.GpuLayers, CpuMoeLayers = fit.CpuMoeLayers }, fit.Report);
    }

    /// <summary>Roofline speed of one replica; null when the GPU has no bandwidth/throughput figures.</summary>
    private static PerformanceEstimate? Price(PlanCandidate candidate, PlanRequest request)
    {
        try
        {
            int layers = request.Model.Layers.Length + 1;   // llama.cpp block_count (NextN included) + the output layer
            var offload = candidate.GpuLayers is { } ngl || candidate.CpuMoeLayers > 0
                ? new OffloadPlan
                {
                    // llama.cpp computes CPU-resident layers on the CPU (no streaming to the GPU)
                    Mode = OffloadMode.ComputeOnCpu,
                    LayerFraction = candidate.GpuLayers is { } n ? 1 - n / (double)layers : 0,
                    ExpertFraction = candidate.CpuMoeLayers / (double)Math.Max(1, request.Model.Layers.Count(l => l.Mlp.Kind == MlpKind.MoE)),
                }
                : OffloadPlan.None;
            var layout = candidate.Engine is "transformers" or "llama.cpp"
                // device_map / layer split: the GPUs run one after another for one sequence
                ? new ParallelLayout { PipelineParallel = candidate.GpusPerReplica, MicroBatches = 1 }
                : new ParallelLayout { TensorParallel = candidate.TensorParallel, PipelineParallel = candidate.PipelineParallel };
            var efficiency = EfficiencyFactors.Default with { StepOverheadSeconds = HostOverheadSeconds(candidate.Engine, request.Model) };
            var kv = KvScalar(candidate.KvCache, request.Model.Dtype);
            // the model's tensors are walked once per format; each candidate re-prices that on its own split and KV type
            var perf = Roofline(request, candidate.Format).With(request.Gpu, kv, layout, efficiency, offload);
            long prompt = request.PromptTokens ?? Math.Max(1, request.ContextTokens / 2);
            int output = (int)Math.Clamp(request.ContextTokens - prompt, 1, int.MaxValue);
            var estimate = perf.Estimate((int)Math.Min(prompt, int.MaxValue), output, request.Concurrency);
            if (offload.IsActive)
            {
                // llama.cpp computes decode steps of host-resident layers on the CPU, but for batches of 32+ tokens
                // it copies their weights to the GPU and computes there (ggml-backend op offload, on by default;
                // --no-op-offload turns it off): prefill is priced as weights streamed over PCIe.
                var prefill = perf.With(offload: offload with { Mode = OffloadMode.StreamOverPcie })
                    .Estimate((int)Math.Min(prompt, int.MaxValue), output, request.Concurrency);
                estimate = estimate with { TtftSeconds = prefill.TtftSeconds, Prefill = prefill.Prefill, PrefillTokensPerSecond = prefill.PrefillTokensPerSecond };
            }

            if (!candidate.FlashAttention)
                estimate = WithUnfusedAttention(estimate, request.Model, request.Gpu, prompt, request.ContextTokens, request.Concurrency);
            return estimate;
        }
        catch (VramFitException)
        {
            return null;
        }
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelDescription, System.Collections.Concurrent.ConcurrentDictionary<WeightFormat, CandidateScreen>> Screens = new();

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelDescription, System.Collections.Concurrent.ConcurrentDictionary<WeightFormat, PerformanceModel>> Rooflines = new();

    /// <summary>The roofline of the model in one weight format on the request's GPU (built once, re-priced with With).</summary>
    private static PerformanceModel Roofline(PlanRequest request, WeightFormat format) =>
        Rooflines.GetValue(request.Model, _ => new()).GetOrAdd(format, static (f, r) => PerformanceModel.Create(ModelProfile.Create(r.Model, f), r.Gpu), request);

    private static CandidateScreen Screen(ModelDescription model, WeightFormat format) =>
        Screens.GetValue(model, _ => new()).GetOrAdd(format, static (f, m) => new CandidateScreen(m, f), model);

    private static int KvBits(string? kv, ScalarType dtype) => KvScalar(kv, dtype).Bits();

    /// <summary>
    /// Without fused attention the score matrix goes through device memory: QKᵀ written in f32, read and written
    /// by the softmax, read by the PV product — four passes of 4 B per (query, key) pair and head in every layer
    /// (llama.cpp's non-FA graph: ggml_mul_mat → ggml_soft_max_ext → ggml_mul_mat; transformers eager). Flash
    /// attention keeps them on chip (Dao et al. 2022). Added to prefill and, per generated token, to decode.
    /// </summary>
    private static PerformanceEstimate WithUnfusedAttention(PerformanceEstimate e, ModelDescription model, Hardware.Accelerator gpu, long prompt, long context, int batch)
    {
        double bandwidth = gpu.MemoryBandwidthGBps * 1e9 * EfficiencyFactors.Default.BandwidthEfficiency;
        double headPairs = 0;
        foreach (var l in model.Layers)
            if (l.OwnsKvCache)
                headPairs += l.Attention.HeadCount;
        const double bytesPerPair = 4 * 4;
        double prefill = batch * headPairs * prompt * (double)prompt / 2 * bytesPerPair / bandwidth;
        double decode = batch * headPairs * context * bytesPerPair / bandwidth;
        double tpot = e.TpotSeconds + decode;
        return e with
        {
            TtftSeconds = e.TtftSeconds + prefill,
            TpotSeconds = tpot,
            DecodeTokensPerSecond = e.DecodeTokensPerSecond * e.TpotSeconds / tpot,
        };
    }

    /// <summary>
    /// Host-side time per engine step that the roofline does not see. transformers' generate() runs eager PyTorch
    /// with no CUDA graphs by default, so every step launches each layer's kernels from Python: about 12 kernels
    /// per block at ~10 µs each (CUDA launch + PyTorch dispatch; transformers docs "LLM inference optimization":
    /// static cache + torch.compile removes this, "up to 4x" faster decoding). Serving engines replay CUDA graphs.
    /// </summary>
    private static double HostOverheadSeconds(string engine, ModelDescription model) =>
        engine == "transformers" ? model.RepeatingLayerCount * 12 * 10e-6 : 0;

    /// <summary>The KV element type for the roofline's bytes (<see cref="KvCacheTypes.ScalarOf"/>).</summary>
    public static ScalarType KvScalar(string? kv, ScalarType dtype) => KvCacheTypes.ScalarOf(kv, dtype);

    private static List<PlanOption> MarkPareto(List<PlanOption> options)
    {
        static bool Dominates(PlanOption a, PlanOption b)
        {
            double at = Safe(a.TokensPerSecond), bt = Safe(b.TokensPerSecond);
            double al = SafeLatency(a.TpotSeconds), bl = SafeLatency(b.TpotSeconds);
            bool noWorse = at >= bt && al <= bl && a.Candidate.GpusPerReplica <= b.Candidate.GpusPerReplica && a.Risk <= b.Risk;
            bool better = at > bt || al < bl || a.Candidate.GpusPerReplica < b.Candidate.GpusPerReplica || a.Risk < b.Risk;
            return noWorse && better;
        }

        return options.Select(o => o with { Pareto = !options.Any(other => Dominates(other, o)) }).ToList();
    }

    private static List<PlanOption> Rank(List<PlanOption> options, PlanGoal goal) => goal switch
    {
        PlanGoal.Latency => options.OrderBy(o => SafeLatency(o.TpotSeconds)).ThenBy(o => SafeLatency(o.TtftSeconds)).ThenBy(o => o.Risk).ToList(),
        PlanGoal.FewestGpus => options.OrderBy(o => o.Candidate.GpusPerReplica).ThenByDescending(o => Safe(o.TokensPerSecond / o.Replicas)).ThenBy(o => o.Risk).ToList(),
        PlanGoal.Quality => options.OrderBy(o => o.Risk).ThenByDescending(o => Safe(o.TokensPerSecond)).ToList(),
        _ => options.OrderByDescending(o => Safe(o.TokensPerSecond)).ThenBy(o => o.Risk).ThenByDescending(o => o.MinHeadroomBytes).ToList(),
    };

    private static double Safe(double v) => double.IsNaN(v) ? 0 : v;

    private static double SafeLatency(double v) => double.IsNaN(v) ? double.MaxValue : v;

    private static string FirstClause(string message)
    {
        int cut = message.IndexOfAny([';', '(']);
        return (cut > 20 ? message[..cut] : message).Trim();
    }
}
