using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Performance;
using VramFit.Simulation;
using VramFit.Sources.HfConfig;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit perf &lt;model&gt; --gpu NAME [--quant Q] [--tp N] [--batch N] [--explain] [--json]</c>: roofline TTFT, TPOT and throughput.</summary>
internal static class PerfCommand
{
    public static Command Create(CliContext context)
    {
        var setup = new PerformanceSetupOptions();
        var prompt = new Option<int>("--prompt-len") { Description = "Prompt tokens", DefaultValueFactory = _ => 1024 };
        var output = new Option<int>("--output-len") { Description = "Generated tokens", DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch") { Description = "Sequences decoding together", DefaultValueFactory = _ => 1 };
        var explain = new Option<bool>("--explain") { Description = "Show every term with its formula inputs" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("perf", "Predict TTFT, time per output token and throughput from a roofline of FLOPs and bytes moved")
        {
            setup.Model, prompt, output, batch, explain, json,
        };
        setup.AddTo(command);
        command.SetAction(parse =>
        {
            var estimate = setup.BuildModel(parse).Estimate(parse.GetValue(prompt), parse.GetValue(output), parse.GetValue(batch));
            if (parse.GetValue(json))
                context.Out.WriteLine(JsonSerializer.Serialize(estimate, PerformanceJsonContext.Default.PerformanceEstimate));
            else
                Render(context.Out, estimate, parse.GetValue(explain));
            return 0;
        });
        return command;
    }

    private static void Render(TextWriter writer, PerformanceEstimate e, bool explain)
    {
        var console = Consoles.For(writer);
        console.WriteLine($"{e.Model} ({e.WeightFormat}, KV {e.KvCacheType}) on {e.Gpu}, TP={e.TensorParallel} PP={e.PipelineParallel}: {e.Compute.Reason}");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("figure");
        table.AddColumn(new TableColumn("value").RightAligned());
        table.AddColumn("bound by");
        table.AddRow("TTFT (prefill " + e.PromptTokens + " tokens)", Ms(e.TtftSeconds), e.Prefill.Bound);
        table.AddRow($"TPOT (batch {e.Batch})", Ms(e.TpotSeconds), e.Decode.Bound);
        table.AddRow($"end-to-end ({e.OutputTokens} tokens)", Ms(e.EndToEndSeconds), "");
        table.AddRow("decode throughput", Rate(e.DecodeTokensPerSecond) + " tok/s", "");
        table.AddRow("prefill throughput", Rate(e.PrefillTokensPerSecond) + " tok/s", "");
        console.Write(table);
        if (!explain)
            return;
        foreach (var step in new[] { e.Prefill, e.Decode })
        {
            var tree = new Tree(Markup.Escape($"{step.Name}: {Ms(step.Time.TotalSeconds)} ({step.Bound}-bound)"));
            foreach (var item in step.Items)
            {
                var node = tree.AddNode(Markup.Escape($"{item.Name}: {Ms(item.Seconds)} = {item.Formula}"));
                foreach (var input in item.Inputs)
                    node.AddNode(Markup.Escape($"{input.Name} = {input.Value.ToString("G6", CultureInfo.InvariantCulture)} {input.Unit}"));
            }

            console.Write(tree);
        }
    }

    internal static string Ms(double seconds) => (seconds * 1000).ToString(seconds < 0.01 ? "0.000" : "0.0", CultureInfo.InvariantCulture) + " ms";

    internal static string Rate(double value) => value.ToString(value < 10 ? "0.00" : "0", CultureInfo.InvariantCulture);
}

/// <summary>
/// The options shared by <c>perf</c> and <c>simulate</c>: the model, the accelerator (catalog name or figures),
/// formats, parallelism, efficiency factors and offload; turns them into a <see cref="PerformanceModel"/>.
/// </summary>
internal sealed class PerformanceSetupOptions
{
    public Argument<string> Model { get; } = new("model") { Description = "Model id from the catalog, or a config.json path" };

    private readonly Option<string?> _gpu = new("--gpu") { Description = "Accelerator name (catalog), or a label for the figures below" };
    private readonly Option<double?> _memory = new("--gpu-memory") { Description = "Accelerator memory, GB (with figures given by hand)" };
    private readonly Option<double?> _bandwidth = new("--bandwidth") { Description = "Peak memory bandwidth, GB/s" };
    private readonly Option<double?> _tflops = new("--tflops") { Description = "Dense 16-bit peak, TFLOPS" };
    private readonly Option<double?> _fp8Tflops = new("--fp8-tflops") { Description = "Dense FP8 peak, TFLOPS (0 = none)" };
    private readonly Option<string?> _quant = new("--quant") { Description = "Weight format: bf16, fp8, awq, gptq-int4, w8a8, q4_k … (default: the checkpoint's)" };
    public Option<string> KvCacheOption => _kv;

    private readonly Option<string> _kv = new("--kv-cache-dtype") { Description = "KV cache dtype: bf16, fp16, fp8", DefaultValueFactory = _ => "bf16" };
    private readonly Option<int> _tp = new("--tp") { Description = "Tensor-parallel degree", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _pp = new("--pp") { Description = "Pipeline-parallel degree", DefaultValueFactory = _ => 1 };
    private readonly Option<double?> _link = new("--interconnect") { Description = "Per-direction link bandwidth between GPUs, GB/s" };
    private readonly Option<double?> _mbu = new("--mbu") { Description = "Achieved fraction of peak bandwidth (default 0.8)" };
    private readonly Option<double?> _mfu = new("--mfu") { Description = "Achieved fraction of peak compute (default 0.5)" };
    private readonly Option<double> _offloadLayers = new("--offload-layers") { Description = "Fraction of block weights in host memory (0–1)" };
    private readonly Option<double> _offloadExperts = new("--offload-experts") { Description = "Fraction of routed-expert weights in host memory (0–1)" };
    private readonly Option<string> _offloadMode = new("--offload-mode") { Description = "stream (over PCIe) or cpu (computed on the CPU)", DefaultValueFactory = _ => "stream" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _gpu, _memory, _bandwidth, _tflops, _fp8Tflops, _quant, _kv, _tp, _pp, _link, _mbu, _mfu, _offloadLayers, _offloadExperts, _offloadMode })
            command.Add(option);
    }

    public ModelDescription ResolveModel(ParseResult parse)
    {
        return ModelLookup.Resolve(parse.GetValue(Model) ?? "");
    }

    /// <summary>The accelerator: figures given by hand win; otherwise the catalog (<see cref="AcceleratorCatalog.Parse"/>).</summary>
    public Accelerator ResolveGpu(ParseResult parse)
    {
        string name = parse.GetValue(_gpu) ?? "custom";
        if (parse.GetValue(_bandwidth) is not { } bandwidth || parse.GetValue(_tflops) is not { } tflops)
        {
            if (parse.GetValue(_gpu) is null)
                throw new InvalidSettingException("gpu", "give a catalog GPU (--gpu h100-sxm) or its figures (--bandwidth GB/s and --tflops)");
            var gpu = AcceleratorCatalog.Parse(name);
            return gpu.MemoryBandwidthGBps > 0 && gpu.Bf16Tflops + gpu.Fp16Tflops > 0
                ? gpu
                : throw new InvalidSettingException("gpu", $"'{name}' has no bandwidth or throughput figures; name a catalog GPU or give --bandwidth and --tflops");
        }
        return new Accelerator
        {
            Id = name,
            Name = name,
            Vendor = AcceleratorVendor.Other,
            MemoryBytes = (long)((parse.GetValue(_memory) ?? 0) * 1e9),
            MemoryBandwidthGBps = bandwidth,
            Fp16Tflops = tflops,
            Bf16Tflops = tflops,
            Fp8Tflops = parse.GetValue(_fp8Tflops) ?? 0,
            InterconnectGBps = parse.GetValue(_link) is { } link ? 2 * link : 0,
        };
    }

    public ParallelLayout Layout(ParseResult parse) => new()
    {
        TensorParallel = parse.GetValue(_tp),
        PipelineParallel = parse.GetValue(_pp),
        InterconnectGBps = parse.GetValue(_link),
    };

    public EfficiencyFactors Efficiency(ParseResult parse) => EfficiencyFactors.Default with
    {
        BandwidthEfficiency = parse.GetValue(_mbu) ?? EfficiencyFactors.Default.BandwidthEfficiency,
        ComputeEfficiency = parse.GetValue(_mfu) ?? EfficiencyFactors.Default.ComputeEfficiency,
    };

    public OffloadPlan Offload(ParseResult parse) => new()
    {
        LayerFraction = parse.GetValue(_offloadLayers),
        ExpertFraction = parse.GetValue(_offloadExperts),
        Mode = parse.GetValue(_offloadMode)?.ToLowerInvariant() switch
        {
            "stream" or "pcie" => OffloadMode.StreamOverPcie,
            "cpu" => OffloadMode.ComputeOnCpu,
            var other => throw new InvalidSettingException("offload-mode", $"'{other}': use stream or cpu"),
        },
    };

    public WeightFormat? Format(ParseResult parse, ModelDescription model) =>
        parse.GetValue(_quant) is { } q ? WeightFormat.Parse(q, model.Dtype) : null;

    public ScalarType KvType(ParseResult parse) =>
        ScalarTypes.TryParse(parse.GetValue(_kv), out var t) && t.Bits() is 8 or 16 or 32
            ? t
            : throw new InvalidSettingException("kv-cache-dtype", $"'{parse.GetValue(_kv)}': use bf16, fp16, fp32 or fp8");

    public PerformanceModel BuildModel(ParseResult parse)
    {
        var model = ResolveModel(parse);
        return PerformanceModel.Create(ModelProfile.Create(model, Format(parse, model)), ResolveGpu(parse), KvType(parse),
            Layout(parse), Efficiency(parse), Offload(parse));
    }
}
