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

    public string? Gpu { get; init; }

    public int Gpus { get; init; } = 1;

    public int Nodes { get; init; } = 1;

    /// <summary>Tokens per sequence: "8192", "32k".</summary>
    public string? Context { get; init; }

    public int? Batch { get; init; }

    public string? Dtype { get; init; }

    public string? Quant { get; init; }

    public string? KvDtype { get; init; }

    public string? Attention { get; init; }

    public string Engine { get; init; } = "transformers";

    /// <summary>Engine-native settings as "name=value".</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    public IEngineModel ResolveEngine() => EngineCatalog.Get(Engine);

    /// <summary>Resolves names and parses values into a request; throws a VramFit error naming the bad input.</summary>
    public EstimateRequest ToRequest(ModelDescription? model = null)
    {
        model ??= ModelLookup.Resolve(Model);
        if (Dtype is not null)
        {
            if (!ScalarTypes.TryParse(Dtype, out var dtype) || dtype is not (ScalarType.F32 or ScalarType.F16 or ScalarType.BF16))
                throw new InvalidSettingException("dtype", $"'{Dtype}' is not bf16, fp16 or fp32");
            model = model.WithDtype(dtype);
        }

        if (Batch is < 1 or > 1 << 20)
            throw new InvalidSettingException("batch", $"must be between 1 and {1 << 20}, got {Batch}");
        var deployment = new Deployment(GpuLookup.Resolve(Gpu), Gpus, Nodes);
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

    /// <summary>Runs the estimate on the chosen engine.</summary>
    public MemoryReport Run(ModelDescription? model = null) => ResolveEngine().Estimate(ToRequest(model));

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
