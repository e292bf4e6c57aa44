using VramFit.Numerics;
using System.Globalization;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;

namespace VramFit.Engines.LlamaCpp;

/// <summary>What auto-fit asks for.</summary>
public sealed record LlamaCppFitRequest
{
    public required ModelDescription Model { get; init; }

    public required Deployment Deployment { get; init; }

    /// <summary>Settings the user fixed (flash_attn, cache types, ubatch …); auto-fit chooses ctx_size, n_gpu_layers and n_cpu_moe.</summary>
    public EngineSettings Settings { get; init; } = EngineSettings.Empty;

    /// <summary>Memory kept free on every GPU. Default 1024 MiB, as llama.cpp's own --fit (common/fit.cpp).</summary>
    public long MarginBytes { get; init; } = 1024L << 20;

    /// <summary>Smallest acceptable context; below it auto-fit offloads weights instead. Default 4096.</summary>
    public long MinContext { get; init; } = 4096;

    /// <summary>Largest context wanted; default the model's training context.</summary>
    public long? MaxContext { get; init; }

    public bool IkLlama { get; init; }

    /// <summary>A GGUF type to assume instead of the model's own ("what if I used Q4_K_M"); null = as it is.</summary>
    public WeightFormat? WeightFormat { get; init; }
}

/// <summary>The configuration auto-fit chose, with its report and launch command.</summary>
public sealed record LlamaCppFit(bool Fits, long ContextTokens, int GpuLayers, int CpuMoeLayers, EngineSettings Settings, MemoryReport Report, string Explanation)
{
    public string LaunchCommand => Report.LaunchCommand ?? "";
}

/// <summary>
/// Finds the llama.cpp configuration that keeps the most weights on the GPUs (decode speed is bound by reading
/// weights, so GPU-resident weights matter more than context), then the largest context that still fits with
/// the margin: full offload first; if even <see cref="LlamaCppFitRequest.MinContext"/> does not fit, MoE models
/// move the experts of the first layers to the CPU (--n-cpu-moe) before any layer leaves the GPU, dense models
/// lower --n-gpu-layers. Each step is a binary search over a quantity that memory grows with monotonically.
/// Like llama.cpp's --fit (common/fit.cpp) but it also counts the unprinted per-GPU context overhead.
/// </summary>
public static class LlamaCppAutoFit
{
    public static LlamaCppFit Fit(LlamaCppFitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MarginBytes < 0)
            throw new InvalidSettingException("margin", "must not be negative");
        // the probes share the model instance, so its tensor list (cached per model and format) is built once
        var model = request.Model;
        var workload = new Workload { WeightFormat = request.WeightFormat };
        var engine = new LlamaCppEngine(request.IkLlama);
        int layers = model.Layers.Length;
        long trained = model.MaxContext > 0 ? model.MaxContext : 131072;
        long maxCtx = Math.Max(256, request.MaxContext ?? trained);
        long minCtx = Math.Clamp(request.MinContext, 256, maxCtx);
        long capacity = request.Deployment.UsableBytesPerGpu - request.MarginBytes;

        MemoryReport Probe(long ctx, int ngl, int cpuMoe)
        {
            var s = request.Settings.With("ctx_size", ctx.ToString(CultureInfo.InvariantCulture))
                .With("n_gpu_layers", ngl.ToString(CultureInfo.InvariantCulture))
                .With("n_cpu_moe", cpuMoe.ToString(CultureInfo.InvariantCulture));
            return engine.Estimate(new EstimateRequest(model, request.Deployment, workload, s));
        }

        bool Fits(MemoryReport r) => r.Accelerators.All(d => d.TotalBytes <= capacity);
        int full = layers + 1;

        // 1. everything on the GPUs: the largest context that fits
        if (Fits(Probe(minCtx, full, 0)))
        {
            long ctx = LargestContext(c => Fits(Probe(c, full, 0)), minCtx, maxCtx);
            return Done(ctx, full, 0, "all layers on the GPUs; context grown to the largest that fits");
        }

        // 2. MoE: experts of the first N layers to the CPU (attention and shared weights stay on the GPU)
        if (model.IsMoE)
        {
            int n = SmallestThatFits(k => Fits(Probe(minCtx, full, k)), 1, layers);
            if (n <= layers)
            {
                long ctx = LargestContext(c => Fits(Probe(c, full, n)), minCtx, maxCtx);
                return Done(ctx, full, n, $"experts of the first {n} layers on the CPU (--n-cpu-moe {n}); the rest on the GPUs");
            }
        }

        // 3. fewer layers on the GPUs (the output layer is the last to leave)
        int fewest = SmallestThatFits(k => Fits(Probe(minCtx, full - k, model.IsMoE ? layers : 0)), 1, full);
        if (fewest <= full)
        {
            int ngl = full - fewest;
            int moe = model.IsMoE ? layers : 0;
            long ctx = LargestContext(c => Fits(Probe(c, ngl, moe)), minCtx, maxCtx);
            return Done(ctx, ngl, moe, $"{ngl} of {full} layers on the GPUs");
        }

        return Done(minCtx, 0, 0, "nothing fits on the GPUs with this margin; CPU only");

        LlamaCppFit Done(long ctx, int ngl, int cpuMoe, string why)
        {
            var report = Probe(ctx, ngl, cpuMoe);
            var s = request.Settings.With("ctx_size", ctx.ToString(CultureInfo.InvariantCulture))
                .With("n_gpu_layers", ngl.ToString(CultureInfo.InvariantCulture))
                .With("n_cpu_moe", cpuMoe.ToString(CultureInfo.InvariantCulture));
            return new LlamaCppFit(Fits(report), ctx, ngl, cpuMoe, s, report, why);
        }
    }

    /// <summary>Largest multiple of 256 in [lo, hi] for which <paramref name="fits"/> holds (it holds at lo).</summary>
    private static long LargestContext(Func<long, bool> fits, long lo, long hi)
    {
        long a = lo / 256, b = hi / 256;
        if (fits(b * 256))
            return Math.Max(hi, lo);
        while (a < b - 1)
        {
            long mid = (a + b) / 2;
            if (fits(mid * 256)) a = mid; else b = mid;
        }

        return Math.Max(a * 256, lo);
    }

    /// <summary>Smallest k in [lo, hi] with <paramref name="fits"/>(k), or hi + 1 when none.</summary>
    private static int SmallestThatFits(Func<int, bool> fits, int lo, int hi)
    {
        if (!fits(hi))
            return hi + 1;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (fits(mid)) hi = mid; else lo = mid + 1;
        }

        return lo;
    }
}
