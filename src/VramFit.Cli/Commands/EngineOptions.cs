using System.CommandLine;
using VramFit.Cli.Resolution;
using VramFit.Engines;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Units;

namespace VramFit.Cli.Commands;

/// <summary>
/// The options every command that estimates shares (model, GPUs, workload, engine and its native
/// settings), and their translation into one library <see cref="EstimateRequest"/>.
/// </summary>
internal sealed class EngineOptions
{
    public Argument<string> Model { get; } = new("model") { Description = ModelArgument.Help };

    public Option<string?> Gpu { get; } = new("--gpu") { Description = GpuArgument.Help };

    public Option<int> Gpus { get; } = new("--gpus") { Description = "GPUs per node", DefaultValueFactory = _ => 1 };

    public Option<int> Nodes { get; } = new("--nodes") { Description = "Nodes", DefaultValueFactory = _ => 1 };

    public Option<string?> Context { get; } = new("--context", "-c") { Description = "Tokens per sequence (prompt + output): 8192, 32k" };

    public Option<int?> Batch { get; } = new("--batch", "-b") { Description = "Concurrent sequences" };

    public Option<string?> Dtype { get; } = new("--dtype") { Description = "Dense dtype of the weights: bf16, fp16, fp32" };

    public Option<string?> Quant { get; } = new("--quant", "-q") { Description = "Weight format: gptq-int4, awq, nf4, fp8, int8, w8a8, mxfp4, q4_k …" };

    public Option<string?> KvDtype { get; } = new("--kv-dtype") { Description = "KV cache dtype: bf16, fp8, q8_0, int4 … (engine-specific)" };

    public Option<string?> Attention { get; } = new("--attention") { Description = "Attention implementation: eager, sdpa, flash" };

    public Option<string> Engine { get; } = new("--engine", "-e") { Description = "Engine: transformers, llama.cpp, vllm, sglang, tensorrt-llm, tgi", DefaultValueFactory = _ => "transformers" };

    public Option<string[]> Set { get; } = new("--set", "-s")
    {
        Description = "Engine-native setting name=value, by the engine's own option names (ctx_size=8192, gpu_memory_utilization=0.9); repeatable",
        AllowMultipleArgumentsPerToken = false,
    };

    public void AddTo(Command command)
    {
        command.Add(Model);
        foreach (var o in new Option[] { Gpu, Gpus, Nodes, Context, Batch, Dtype, Quant, KvDtype, Attention, Engine, Set })
            command.Add(o);
    }

    public IEngineModel ResolveEngine(ParseResult parse) => EngineCatalog.Get(parse.GetValue(Engine) ?? "transformers");

    /// <summary>Builds the request; throws VramFit errors naming the bad option.</summary>
    public EstimateRequest ResolveRequest(ParseResult parse, ModelDescription? model = null)
    {
        model ??= ModelArgument.Resolve(parse.GetValue(Model)!);
        var dtypeText = parse.GetValue(Dtype);
        if (dtypeText is not null)
        {
            if (!ScalarTypes.TryParse(dtypeText, out var dtype) || dtype is not (ScalarType.F32 or ScalarType.F16 or ScalarType.BF16))
                throw new InvalidSettingException("dtype", $"'{dtypeText}' is not bf16, fp16 or fp32");
            model = model.WithDtype(dtype);
        }

        var quant = parse.GetValue(Quant);
        var accelerator = GpuArgument.Resolve(parse.GetValue(Gpu)) ?? UnknownGpu;
        var deployment = new Deployment(accelerator, parse.GetValue(Gpus), parse.GetValue(Nodes));
        var context = parse.GetValue(Context);
        var workload = new Workload
        {
            ContextTokens = context is null ? null : TokenCount.Parse(context, "context"),
            Batch = parse.GetValue(Batch) is { } b ? (b >= 1 ? b : throw new InvalidSettingException("batch", $"must be at least 1, got {b}")) : null,
            WeightFormat = quant is null ? null : WeightFormat.Parse(quant, model.Dtype),
            KvCacheType = parse.GetValue(KvDtype),
            Attention = parse.GetValue(Attention),
        };
        return new EstimateRequest(model, deployment, workload, ParseSettings(parse.GetValue(Set) ?? []));
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
