using System.CommandLine;
using VramFit.Engines;
using VramFit.Hardware;
using VramFit.Models;

namespace VramFit.Cli.Commands;

/// <summary>
/// The options every command that estimates shares (model, GPUs, workload, engine and its native
/// settings), collected into one library <see cref="EstimateInput"/>.
/// </summary>
internal sealed class EngineOptions
{
    public Argument<string> Model { get; } = new("model") { Description = ModelLookup.Help };

    public Option<string?> Gpu { get; } = new("--gpu")
    {
        Description = "GPU: a catalog name (see 'vramfit gpus'), a size such as 24GiB or 80GB, or auto (detected GPUs and their free memory; the default when GPUs are present)",
    };

    public Option<int?> Gpus { get; } = new("--gpus") { Description = "GPUs per node (default 1, or the detected count)" };

    public Option<int> Nodes { get; } = new("--nodes") { Description = "Nodes", DefaultValueFactory = _ => 1 };

    public Option<string?> Context { get; } = new("--context", "-c") { Description = "Tokens per sequence (prompt + output): 8192, 32k" };

    public Option<int?> Batch { get; } = new("--batch", "-b") { Description = "Concurrent sequences" };

    public Option<string?> Dtype { get; } = new("--dtype") { Description = "Dense dtype of the weights: bf16, fp16, fp32" };

    public Option<string?> Quant { get; } = new("--quant", "-q") { Description = "Weight format: gptq-int4, awq, nf4, fp8, int8, w8a8, mxfp4, q4_k …" };

    public Option<string?> KvDtype { get; } = new("--kv-dtype") { Description = "KV cache dtype: bf16, fp8, q8_0, int4 … (engine-specific)" };

    public Option<string?> Attention { get; } = new("--attention") { Description = "Attention implementation: eager, sdpa, flash" };

    public Option<string?> Engine { get; } = new("--engine", "-e")
    {
        Description = "Engine: transformers, llama.cpp, ik_llama.cpp, vllm, sglang, tensorrt-llm, tgi (default: llama.cpp for a .gguf, else transformers)",
    };

    public Option<string[]> Set { get; } = new("--set", "-s")
    {
        Description = "Engine-native setting name=value, by the engine's own option names (ctx_size=8192, gpu_memory_utilization=0.9); repeatable",
    };

    public Option<bool> Offline { get; } = new("--offline") { Description = "Never touch the network (catalog, local files and the HF cache only)" };

    public void AddTo(Command command)
    {
        command.Add(Model);
        foreach (var o in new Option[] { Gpu, Gpus, Nodes, Context, Batch, Dtype, Quant, KvDtype, Attention, Engine, Set, Offline })
            command.Add(o);
    }

    public EstimateInput Input(ParseResult parse, IProgress<long>? progress = null) => new()
    {
        Progress = progress,
        Model = parse.GetValue(Model)!,
        Gpu = parse.GetValue(Gpu),
        Gpus = parse.GetValue(Gpus),
        DetectWhenNoGpu = true,
        Offline = parse.GetValue(Offline),
        Nodes = parse.GetValue(Nodes),
        Context = parse.GetValue(Context),
        Batch = parse.GetValue(Batch),
        Dtype = parse.GetValue(Dtype),
        Quant = parse.GetValue(Quant),
        KvDtype = parse.GetValue(KvDtype),
        Attention = parse.GetValue(Attention),
        Engine = parse.GetValue(Engine),
        Settings = parse.GetValue(Set) ?? [],
    };
}
