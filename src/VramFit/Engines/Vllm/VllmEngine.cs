using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using VramFit.Engines.Serving;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Engines.Vllm;

/// <summary>
/// vLLM's memory budget per GPU rank (vllm/v1/worker/gpu_worker.py <c>determine_available_memory</c>;
/// V0 vllm/worker/worker.py <c>determine_num_available_blocks</c>):
/// KV memory = total × gpu_memory_utilization − weights − activation peak of the profile run − non-torch growth,
/// paged into blocks by <see cref="VllmKvPlan"/>; CUDA graphs are captured afterwards from what is left.
/// </summary>
public sealed class VllmEngine : IEngineModel
{
    public string Id => "vllm";

    public IReadOnlyCollection<string> SettingNames => VllmSettings.Names;

    public MemoryReport Estimate(EstimateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = VllmSettings.Resolve(request);
        var model = request.Model;
        var deployment = request.Deployment;
        var layout = s.Parallel;
        if (layout.TotalGpus > deployment.TotalGpus)
            throw new InvalidSettingException("tensor_parallel_size",
                $"TP {layout.Tensor} × PP {layout.Pipeline} × DP {layout.Data} needs {layout.TotalGpus} GPUs; the deployment has {deployment.TotalGpus}");

        var profile = ServingProfiles.Get(model, s.Weights);
        var rules = RulesFor(s.Weights, model);
        int dtypeBytes = s.Dtype.Bytes();
        // vLLM's total_gpu_memory is torch.cuda.mem_get_info()[1]: the CUDA runtime's total, below the datasheet's
        long total = deployment.Gpu.RuntimeTotalBytes;
        long requested = (long)(total * s.GpuMemoryUtilization);
        string origin = s.Version.V1 ? "vLLM V1 gpu_worker.py determine_available_memory" : "vLLM V0 worker.py determine_num_available_blocks";
        var notes = ImmutableArray.CreateBuilder<string>();
        if (deployment.FreeBytesPerGpu is { } free && free < requested)
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Free memory on device ({free / ServingItems.Gib:0.##}/{total / ServingItems.Gib:0.##} GiB) on startup is less than desired GPU memory utilization ({s.GpuMemoryUtilization}, {requested / ServingItems.Gib:0.##} GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes."));

        var devices = ImmutableArray.CreateBuilder<DeviceMemory>(layout.Pipeline);
        var charge = VllmMemoryProfiler.ChargeOf(s.Version);
        int captureSizes = s.EnforceEager ? 0 : VllmCudaGraphs.CaptureSizes(s).Count;
        long graphCount = VllmCudaGraphs.GraphCount(s, captureSizes);
        VllmKvPlan? engineKv = null;
        long stage0Weights = 0, stage0NonTorch = 0, stage0Activation = 0, stage0Available = 0, graphs = 0;
        int decodeLayers = rules.LoadNextN ? model.Layers.Length : model.RepeatingLayerCount;
        for (int stage = 0; stage < layout.Pipeline; stage++)
        {
            var w = ServingProfiles.Weights(profile, layout, rules, stage);
            long offloaded = Math.Min(s.CpuOffloadBytes, w.Total);
            long lora = s.LoraRank > 0 ? VllmLora.Bytes(model, layout, w.FirstLayer, w.LayerCount, s.LoraRank, s.MaxLoras, dtypeBytes) : 0;
            // "Model loading took" is torch.cuda.memory_allocated(): the tensors, the rotary tables and the caching
            // allocator's block rounding
            // gpt-oss builds its rotary table in float32 (vllm/model_executor/models/gpt_oss.py OAIAttention: get_rope(dtype=torch.float32))
            int ropeBytes = model.Architecture == "gpt_oss" ? 4 : dtypeBytes;
            var torchWeights = ServingProfiles.TorchWeights(profile, layout, rules, stage, ropeBytes);
            long rounding = torchWeights.RoundingBytes, rotary = torchWeights.RotaryCacheBytes;
            long mla = VllmMlaWeights.Bytes(model, s, w.FirstLayer, w.LayerCount, dtypeBytes);
            long weights = w.Total + rotary + rounding - offloaded + lora + mla;
            long nonTorch = VllmMemoryProfiler.NonTorchBytes(s.Version, layout.Tensor, deployment.Gpu);
            bool last = stage == layout.Pipeline - 1;
            var peak = VllmProfileRun.Measure(model, s, dtypeBytes, w.FirstLayer, w.LayerCount, last);
            long graphBytes = VllmCudaGraphs.Bytes(s, w.LayerCount, graphCount);
            // the budget less everything but the activation peak, which differs by rank under V0
            long beforePeak = requested - weights - nonTorch - (s.EstimateCudaGraphs ? graphBytes : 0);
            long available = s.KvCacheMemoryBytes ?? beforePeak - peak.Bytes;
            var kvLayers = KvLayerSpec.ForStage(model, layout.Tensor, s.KvDtype, w.FirstLayer, w.LayerCount, stateElementBytes: dtypeBytes);
            var plan = VllmKvPlan.Plan(kvLayers, available, s.BlockSize, s.MaxModelLen, s.MaxNumBatchedTokens, s.Version.V1, s.NumGpuBlocksOverride);
            if (engineKv is null || plan.NumBlocks < engineKv.NumBlocks)
                engineKv = plan;
            if (stage == 0)
                (stage0Weights, stage0NonTorch, stage0Activation, stage0Available, graphs) = (weights, nonTorch, peak.Bytes, available, graphBytes);
            if (last && !s.Version.V1 && layout.Tensor > 1 && s.KvCacheMemoryBytes is null)
            {
                // V0 samples on the driver only: the other workers' peak is the forward alone, their pool larger
                long workerPeak = peak.ForwardBytes;
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"V0 runs the sampler on the driver (TP rank 0) only: the other workers of stage {stage} log an activation peak of {workerPeak / ServingItems.Gib:0.00} GiB and {(beforePeak - workerPeak) / ServingItems.Gib:0.00} GiB for KV cache; the engine sizes every rank's pool by the driver's"));
                // printed_rank=worker: the per-rank GiB figures as a non-driver worker's profile line prints them
                if (stage == 0 && s.PrintedRank == VllmPrintedRank.Worker)
                    (stage0Activation, stage0Available) = (workerPeak, beforePeak - workerPeak);
            }

            string device = layout.Tensor == 1 ? $"GPU{stage}" : $"GPU{stage * layout.Tensor}-{stage * layout.Tensor + layout.Tensor - 1}";
            var items = ImmutableArray.CreateBuilder<MemoryItem>();
            items.Add(ServingItems.Weights(w, device, s.Weights.Name, "vLLM model loader (\"Model loading took X GiB\"), per rank",
                ServingItems.RotaryTables(rotary, ropeBytes, device, "vLLM rotary_embedding.py get_rope (cached) / _compute_cos_sin_cache"),
                ServingItems.Item("caching-allocator rounding", MemoryCategory.Weights, rounding, device,
                    "Σ parameters (block rounded to 512 B; a segment tail of ≤ 1 MiB stays in the block) − tensor bytes",
                    "PyTorch c10/cuda/CUDACachingAllocator.cpp round_size / get_allocation_size / should_split"),
                ServingItems.Item("LoRA slots", MemoryCategory.Weights, lora, device,
                    "max_loras × Σ linear layers (rank × in + out × rank), sharded like the layer", "vLLM vllm/lora/layers *_stacked buffers",
                    new FormulaInput("max_lora_rank", s.LoraRank), new FormulaInput("max_loras", s.MaxLoras)),
                ServingItems.Item("MLA derived matrices", MemoryCategory.Weights, mla, device,
                    "0.7.x V0: absorbed W_Q_UK + W_UV_O for this rank's heads; from 0.8: a 16-bit copy of a quantized kv_b_proj (W_UK_T, W_UV)",
                    "vLLM MLA process_weights_after_loading (PR #12528, PR #14770)"),
                ServingItems.Item("offloaded to CPU (cpu_offload_gb)", MemoryCategory.Weights, -offloaded, device,
                    "weights streamed from pinned host memory each forward", "vLLM model_executor/models/utils.py maybe_offload_to_cpu")));
            items.Add(ServingItems.Item("non-torch memory", MemoryCategory.Overhead, nonTorch, device,
                charge switch
                {
                    VllmNonTorchCharge.None => "not charged: this release profiled torch.cuda.max_memory_allocated() only",
                    VllmNonTorchCharge.DeviceWide => "CUDA context + kernel modules + NCCL channel buffers (TP > 1) + custom all-reduce buffers: everything in use on the device",
                    _ => "kernel modules + NCCL channel buffers (TP > 1) + custom all-reduce buffers, grown since the worker's first snapshot",
                }, origin,
                new FormulaInput("tensor_parallel_size", layout.Tensor)));
            FormulaInput[] peakInputs =
            [
                new("max_num_batched_tokens", s.MaxNumBatchedTokens), new("sampled requests", peak.SampledRequests),
                new("forward peak", peak.ForwardBytes, "B"), new("sampler peak", peak.SamplerBytes, "B"),
                new("sampler bytes per logit", peak.SamplerBytesPerLogit, "B"),
            ];
            if (peak.BitsandbytesBytes > 0)
                peakInputs = [.. peakInputs, new("of it bitsandbytes bf16 temporaries", peak.BitsandbytesBytes, "B")];
            if (peak.EncoderBytes > 0)
                peakInputs = [.. peakInputs, new("dummy image encoder pass (V1)", peak.EncoderBytes, "B"), new("encoder outputs held", peak.EncoderOutputBytes, "B")];
            items.Add(ServingItems.Item("activation peak (profile run, reserved)", MemoryCategory.Activations, peak.Bytes, device,
                "max(forward at max_num_batched_tokens, hidden states + sampler over min(max_num_seqs, tokens) × vocab × B/logit) [+ encoder outputs; V1 multimodal: or the dummy image encoder pass, whichever is larger]",
                "vLLM gpu_model_runner.py profile_run / _dummy_sampler_run; quantization/bitsandbytes.py _apply_4bit_weight", peakInputs));
            items.Add(ServingItems.Item("KV cache", MemoryCategory.KvCache, plan.AllocatedBytes, device,
                "num_blocks × page_size × layers per group", "vLLM kv_cache_utils.py get_kv_cache_config",
                new FormulaInput("available KV memory", available, "B"), new FormulaInput("num_blocks", plan.NumBlocks),
                new FormulaInput("block_size", s.BlockSize), new FormulaInput("page size", plan.Groups.Count > 0 ? plan.Groups[0].PageBytes : 0, "B"),
                new FormulaInput("groups", plan.Groups.Count), new FormulaInput("layers per group", plan.GroupSize)));
            items.Add(ServingItems.Item(s.EstimateCudaGraphs ? "CUDA graphs (estimated before the KV cache)" : "CUDA graphs (captured after the KV cache)", MemoryCategory.Overhead, graphBytes, device,
                "captured graphs × layers × kernels per layer × bytes per kernel node", "vLLM gpu_model_runner.py capture_model",
                new FormulaInput("capture sizes", captureSizes), new FormulaInput("graphs", graphCount),
                new FormulaInput("layers", w.LayerCount), new FormulaInput("kernels per layer", VllmCudaGraphs.KernelsPerLayer(s)),
                new FormulaInput("bytes per kernel node", VllmCudaGraphs.BytesPerKernelNode), new FormulaInput("enforce_eager", s.EnforceEager ? 1 : 0)));
            if (charge != VllmNonTorchCharge.DeviceWide)
                items.Add(ServingItems.Item("CUDA context (outside the budget)", MemoryCategory.Overhead, CommunicationBuffers.CudaContextBytes(deployment.Gpu), device,
                    "driver context created before vLLM's first memory snapshot", "CUDA 12 lazy loading, nvidia-smi of an idle PyTorch process"));
            devices.Add(new DeviceMemory { Device = device, CapacityBytes = total, Items = items.ToImmutable() });
        }

        var kv = engineKv!;
        if (kv.Error is not null)
            notes.Add(kv.Error);
        if (s.Version.V1 && kv.Groups.Count > 1)
            notes.Add($"hybrid KV cache: {kv.Groups.Count} groups of {kv.GroupSize} layers ({string.Join(", ", kv.Groups.Select(g => g.Kind).Distinct())})");
        notes.Add($"vLLM {s.Version}; sampler {(s.FlashInferSampler ? "FlashInfer" : "PyTorch top-k/top-p sort")} in the profile run{(s.EstimateCudaGraphs ? "; CUDA graph memory charged to the budget before sizing the KV cache" : "; CUDA graphs are captured after the KV cache is sized")}");

        long tokens = kv.Tokens;
        var figures = ImmutableDictionary.CreateBuilder<string, double>();
        figures["weights_gib"] = ServingItems.GiB4(stage0Weights);
        figures["non_torch_gib"] = ServingItems.GiB2(stage0NonTorch);
        figures["activation_peak_gib"] = ServingItems.GiB2(stage0Activation);
        figures["kv_cache_gib"] = ServingItems.GiB2(stage0Available);
        figures["available_kv_gib"] = ServingItems.GiB2(stage0Available);
        figures["gpu_blocks"] = kv.NumBlocks;
        figures["kv_tokens"] = tokens;
        figures["max_concurrency"] = Math.Round(kv.MaxConcurrency, 2);
        figures["cuda_graph_gib"] = ServingItems.GiB2(graphs);

        return new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = profile.Parameters,
            Devices = devices.ToImmutable(),
            Notes = notes.ToImmutable(),
            Settings =
            [
                new("tensor_parallel_size", layout.Tensor), new("pipeline_parallel_size", layout.Pipeline),
                new("data_parallel_size", layout.Data), new("gpu_memory_utilization", s.GpuMemoryUtilization),
                new("max_model_len", s.MaxModelLen), new("max_num_seqs", s.MaxNumSeqs),
                new("max_num_batched_tokens", s.MaxNumBatchedTokens), new("block_size", s.BlockSize),
                new("kv_cache_dtype bytes", s.KvDtype.ElementBytes, "B"),
            ],
            Capacity = new ServingCapacity
            {
                KvCacheBytes = kv.AllocatedBytes,
                KvCacheTokens = tokens,
                GpuBlocks = kv.NumBlocks,
                BlockSize = kv.Groups.Count > 0 ? kv.Groups.Min(g => g.BlockSize) : s.BlockSize,
                MaxConcurrency = kv.MaxConcurrency,
                MaxModelLen = kv.EstimatedMaxModelLen,
                EngineError = kv.Error,
            },
            PrintedFigures = figures.ToImmutable(),
            LaunchCommand = LaunchCommand(model, request.Settings, s),
        };
    }

    /// <summary>
    /// Layout choices of vLLM's loaders: vocab-parallel embeddings padded to 64 rows; MXFP4 MoE weights
    /// padded for the kernels (vllm/model_executor/layers/quantization/mxfp4.py create_weights: per-partition
    /// intermediate size rounded up to 128 and hidden size to 256 for the Marlin/Triton MoE kernels).
    /// </summary>
    private static ShardingRules RulesFor(WeightFormat format, ModelDescription model) =>
        format.Kind == WeightFormatKind.Mxfp4 && model.IsMoE
            ? ShardingRules.Vllm with { ExpertIntermediateAlign = 128, ExpertHiddenAlign = 256 }
            : ShardingRules.Vllm;

    private static string LaunchCommand(ModelDescription model, EngineSettings given, VllmSettings s)
    {
        var sb = new StringBuilder("vllm serve ").Append(model.Name);
        void Add(string flag, string value) => sb.Append(" --").Append(flag).Append(' ').Append(value);
        if (s.Parallel.Tensor > 1) Add("tensor-parallel-size", s.Parallel.Tensor.ToString(CultureInfo.InvariantCulture));
        if (s.Parallel.Pipeline > 1) Add("pipeline-parallel-size", s.Parallel.Pipeline.ToString(CultureInfo.InvariantCulture));
        if (s.Parallel.Data > 1) Add("data-parallel-size", s.Parallel.Data.ToString(CultureInfo.InvariantCulture));
        if (s.Parallel.ExpertParallel) sb.Append(" --enable-expert-parallel");
        Add("gpu-memory-utilization", s.GpuMemoryUtilization.ToString(CultureInfo.InvariantCulture));
        Add("max-model-len", s.MaxModelLen.ToString(CultureInfo.InvariantCulture));
        if (given.Has("max_num_seqs")) Add("max-num-seqs", s.MaxNumSeqs.ToString(CultureInfo.InvariantCulture));
        if (given.Has("max_num_batched_tokens")) Add("max-num-batched-tokens", s.MaxNumBatchedTokens.ToString(CultureInfo.InvariantCulture));
        if (given.Has("dtype")) Add("dtype", given.GetString("dtype")!);
        if (s.Quantization is not null) Add("quantization", s.Quantization);
        if (s.KvDtype.Name != "auto") Add("kv-cache-dtype", s.KvDtype.Name);
        if (given.Has("block_size")) Add("block-size", s.BlockSize.ToString(CultureInfo.InvariantCulture));
        if (s.EnforceEager) sb.Append(" --enforce-eager");
        if (s.CpuOffloadBytes > 0) Add("cpu-offload-gb", (s.CpuOffloadBytes / ServingItems.Gib).ToString("0.##", CultureInfo.InvariantCulture));
        if (given.Has("enable_prefix_caching")) sb.Append(s.PrefixCaching ? " --enable-prefix-caching" : " --no-enable-prefix-caching");
        return sb.ToString();
    }
}
