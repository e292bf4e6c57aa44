using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;
using VramFit.Units;

namespace VramFit.Engines;

/// <summary>
/// An estimate as users phrase it, in text (the CLI's options, the web page's query string): model and GPU
/// names, sizes like "32k", engine-native "name=value" settings. <see cref="ToRequest"/> validates every value
/// and names the bad one; both front ends go through here so they cannot disagree.
/// </summary>
public sealed record EstimateInput
{
    public required string Model { get; init; }

    /// <summary>A catalog name, a size ("24GiB"), "auto" (detected GPUs with their free memory), or null.</summary>
    public string? Gpu { get; init; }

    /// <summary>GPUs per node; null = 1, or the detected count with "auto".</summary>
    public int? Gpus { get; init; }

    /// <summary>With no <see cref="Gpu"/>, use the detected GPUs when there are any (the CLI's default; the web
    /// server does not probe the machine it runs on unless asked with "auto").</summary>
    public bool DetectWhenNoGpu { get; init; }

    public int Nodes { get; init; } = 1;

    /// <summary>Tokens per sequence: "8192", "32k".</summary>
    public string? Context { get; init; }

    public int? Batch { get; init; }

    public string? Dtype { get; init; }

    public string? Quant { get; init; }

    public string? KvDtype { get; init; }

    public string? Attention { get; init; }

    /// <summary>Engine id; null picks llama.cpp for a GGUF model and transformers otherwise.</summary>
    public string? Engine { get; init; }

    /// <summary>Engine-native settings as "name=value".</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>Never touch the network when resolving <see cref="Model"/>.</summary>
    public bool Offline { get; init; }

    /// <summary>Receives the bytes read from the Hugging Face Hub while resolving <see cref="Model"/>.</summary>
    public IProgress<long>? Progress { get; init; }

    /// <summary>The engine asked for, or the one <paramref name="model"/> implies (a GGUF file runs on llama.cpp).</summary>
    public IEngineModel ResolveEngine(ModelDescription? model = null) => EngineCatalog.Get(
        Engine ?? (model?.Checkpoint?.Format == CheckpointFormat.Gguf ? "llama.cpp" : "transformers"));

    /// <summary>Resolves names and parses values into a request; throws a VramFit error naming the bad input.</summary>
    public EstimateRequest ToRequest(ModelDescription? model = null)
    {
        model ??= ModelLookup.Resolve(Model, Offline, Progress);
        if (Dtype is not null)
        {
            if (!ScalarTypes.TryParse(Dtype, out var dtype) || dtype is not (ScalarType.F32 or ScalarType.F16 or ScalarType.BF16))
                throw new InvalidSettingException("dtype", $"'{Dtype}' is not bf16, fp16 or fp32");
            model = model.WithDtype(dtype);
        }

        if (Batch is < 1 or > 1 << 20)
            throw new InvalidSettingException("batch", $"must be between 1 and {1 << 20}, got {Batch}");
        var deployment = ResolveDeployment();
        var workload = new Workload
        {
            ContextTokens = Context is null ? null : TokenCount.Parse(Context, "context"),
            Batch = Batch,
            WeightFormat = Quant is null ? null : WeightFormat.Parse(Quant, model.Dtype),
            KvCacheType = KvDtype,
            Attention = Attention,
        };
        return new EstimateRequest(model, deployment, workload, ParseSettings(Settings));
    }

    /// <summary>A device of unknown size: estimates print without a verdict.</summary>
    public static Accelerator UnknownGpu { get; } = new()
    {
        Id = "unknown",
        Name = "GPU of unknown size (give --gpu)",
        Vendor = AcceleratorVendor.Other,
        MemoryBytes = 0,
        MemoryBandwidthGBps = 0,
    };

    /// <summary>The devices: named, sized, detected ("auto"), or of unknown size when none is given or found.</summary>
    public Deployment ResolveDeployment()
    {
        if (Gpus is < 1 or > 4096)
            throw new InvalidSettingException("gpus", $"must be between 1 and 4096, got {Gpus}");
        bool auto = string.Equals(Gpu?.Trim(), Hardware.Detection.GpuSelection.Auto, StringComparison.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(Gpu) && !auto)
            return new Deployment(AcceleratorCatalog.Parse(Gpu), Gpus ?? 1, Nodes);
        if (auto || DetectWhenNoGpu)
        {
            try
            {
                var detected = Hardware.Detection.GpuSelection.Resolve(Hardware.Detection.GpuSelection.Auto, Gpus);
                return new Deployment(detected.Gpu, detected.GpuCount, Nodes, detected.FreeBytesPerGpu, detected.HostMemoryBytes);
            }
            catch (InvalidSettingException) when (!auto)
            {
                // nothing detected and nothing asked: estimate without a verdict
            }
        }

        return new Deployment(UnknownGpu, Gpus ?? 1, Nodes);
    }

    /// <summary>Runs the estimate on the chosen engine.</summary>
    public MemoryReport Run(ModelDescription? model = null)
    {
        var request = ToRequest(model);
        return ResolveEngine(request.Model).Estimate(request);
    }

    private static EngineSettings ParseSettings(IEnumerable<string> pairs)
    {
        var values = new List<KeyValuePair<string, string>>();
        foreach (var p in pairs)
        {
            int eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new InvalidSettingException("set", $"'{p}' is not name=value");
            values.Add(new(p[..eq].Trim(), p[(eq + 1)..].Trim()));
        }

        return new EngineSettings(values);
    }
}
