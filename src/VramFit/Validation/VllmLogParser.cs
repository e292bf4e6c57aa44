using System.Globalization;
using System.Text.RegularExpressions;
using VramFit.Errors;

namespace VramFit.Validation;

/// <summary>
/// Reads a vLLM server or offline log (V0 from 0.2, V1) into a validation case: the engine version, the model, the
/// settings that decide the budget (from the engine config line, "non-default args", the chunked-prefill line and
/// the profile line) and the figures vLLM printed, named as shared/validation/SCHEMA.md names them. With tensor
/// parallelism every worker logs its own profile; the per-rank figures are taken from rank 0 (the V0 driver's
/// lines carry no "(VllmWorkerProcess pid=…)" prefix; V1 workers log as "(Worker_TP0 …)" or "(VllmWorker rank=0 …)").
/// </summary>
public static partial class VllmLogParser
{
    /// <summary>Whether <paramref name="log"/> looks like a vLLM log rather than a llama.cpp one.</summary>
    public static bool Recognizes(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return EngineConfig().IsMatch(log) || log.Contains("vLLM API server version", StringComparison.Ordinal)
            || Blocks().IsMatch(log) || log.Contains("GPU KV cache size:", StringComparison.Ordinal)
            || WeightsTook().IsMatch(log);
    }

    /// <summary>Parses <paramref name="log"/>; throws <see cref="VramFitException"/> when it holds no vLLM figure.</summary>
    public static ValidationCase Parse(string log, string id = "from-log")
    {
        ArgumentNullException.ThrowIfNull(log);
        string? version = null, model = null;
        bool? v1 = null;
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        // rank 0's figures; those of processes whose rank the log does not say (Ray workers) only fill gaps
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        var unranked = new Dictionary<string, double>(StringComparer.Ordinal);
        double? totalGib = null;
        var rank = Rank.Zero;
        foreach (var raw in log.Split('\n'))
        {
            var line = Ansi().Replace(raw.TrimEnd('\r'), "");
            // a record's continuation lines (V0's multi-line profile message) belong to the process that began it;
            // a worker's prefix is repeated on each of its lines
            if (ProcessPrefix().Match(line) is { Success: true } prefix)
                rank = RankOf(prefix.Groups[1].Value);
            else if (RecordStart().IsMatch(line))
                rank = Rank.Zero;
            if (EngineConfig().Match(line) is { Success: true } e)
            {
                // "V1 LLM engine" / "V0 LLM engine" (0.8–0.9 name both); plain "an LLM engine" before V1 existed
                v1 ??= e.Groups[1].Success && e.Groups[1].Value.StartsWith("V1", StringComparison.Ordinal);
                version ??= e.Groups[2].Value;
                ReadConfig(line[(e.Index + e.Length)..], settings, ref model);
            }
            else if (ServerVersion().Match(line) is { Success: true } sv)
            {
                version ??= sv.Groups[1].Value;
            }

            if (NonDefaultArgs().Match(line) is { Success: true } nd)
                ReadNonDefaultArgs(nd.Groups[1].Value, settings, ref model);
            if (ChunkedPrefill().Match(line) is { Success: true } cp)
                settings.TryAdd("max_num_batched_tokens", cp.Groups[1].Value);
            if (rank == Rank.Other)
                continue;
            var target = rank == Rank.Zero ? figures : unranked;
            if (WeightsTook().Match(line) is { Success: true } w)
                target.TryAdd("weights_gib", Number(w.Groups[1].Value));
            if (ProfileBudget().Match(line) is { Success: true } pb)
            {
                totalGib ??= Number(pb.Groups[1].Value);
                settings.TryAdd("gpu_memory_utilization", pb.Groups[2].Value);
            }

            if (ProfileFigures().Match(line) is { Success: true } pf)
            {
                target.TryAdd("non_torch_gib", Number(pf.Groups[2].Value));
                target.TryAdd("activation_peak_gib", Number(pf.Groups[3].Value));
                target.TryAdd("kv_cache_gib", Number(pf.Groups[4].Value));
            }

            if (StartupMemory().Match(line) is { Success: true } sm)
            {
                totalGib ??= Number(sm.Groups[1].Value);
                settings.TryAdd("gpu_memory_utilization", sm.Groups[2].Value);
            }

            if (OldProfile().Match(line) is { Success: true } op)
            {
                totalGib ??= Number(op.Groups[1].Value);
                target.TryAdd("non_torch_gib", Number(op.Groups[2].Value));
                target.TryAdd("kv_cache_gib", Number(op.Groups[3].Value));
                settings.TryAdd("gpu_memory_utilization", op.Groups[4].Value);
            }

            if (AvailableKv().Match(line) is { Success: true } ak)
                target.TryAdd("available_kv_gib", Number(ak.Groups[1].Value));
            if (Blocks().Match(line) is { Success: true } b)
                target.TryAdd("gpu_blocks", Number(b.Groups[1].Value));
            if (KvTokens().Match(line) is { Success: true } kt)
                target.TryAdd("kv_tokens", Number(kt.Groups[1].Value));
            if (Concurrency().Match(line) is { Success: true } mc)
            {
                settings.TryAdd("max_model_len", Number(mc.Groups[1].Value).ToString(CultureInfo.InvariantCulture));
                target.TryAdd("max_concurrency", Number(mc.Groups[2].Value));
            }

            if (GraphsTook().Match(line) is { Success: true } g)
                target.TryAdd("cuda_graph_gib", Number(g.Groups[1].Value));
        }

        foreach (var (name, value) in unranked)
            figures.TryAdd(name, value);
        if (figures.Count == 0)
            throw new VramFitException("no vLLM memory figure found (\"Model loading took\", \"# GPU blocks\", \"GPU KV cache size\" …): is this a vLLM log?");
        // the engine line says V0 or V1; without it VllmVersion decides by the number (V1 from 0.8)
        string? engineVersion = (version, v1) switch
        {
            (null, null) => null,
            (null, { } isV1) => isV1 ? "V1" : "V0",
            (_, null) => version,
            (_, { } isV1) => $"{version} {(isV1 ? "V1" : "V0")}",
        };
        return new ValidationCase
        {
            Id = id,
            Engine = "vllm",
            EngineVersion = engineVersion,
            Source = "vramfit explain-log",
            Notes = "parsed from a vLLM log; per-rank figures are those of rank 0",
            HfId = model,
            Gpu = new CaseGpu(null, ServingLogValues.GpuCount(settings, "tensor_parallel_size", "pipeline_parallel_size"), totalGib is { } gib ? (long)Math.Round(gib * 1024) : null),
            Params = [.. settings.OrderBy(kv => kv.Key, StringComparer.Ordinal)],
            Observed = [.. figures.Select(kv => new ObservedFigure(kv.Key, kv.Value))],
        };
    }

    private enum Rank
    {
        Zero,
        Other,
        Unknown,
    }

    /// <summary>
    /// The rank of a process prefix: V0's "VllmWorkerProcess" workers are not the driver; V1's "Worker_DP0_PP1_TP0_EP0"
    /// or "VllmWorker rank=1" say theirs (rank 0 only when every index is 0); Ray workers do not say; the engine core,
    /// the API server and the driver are rank 0.
    /// </summary>
    private static Rank RankOf(string process)
    {
        if (process.StartsWith("VllmWorkerProcess", StringComparison.Ordinal))
            return Rank.Other;
        if (process.StartsWith("RayWorkerWrapper", StringComparison.Ordinal))
            return Rank.Unknown;
        if (RankIndex().Matches(process) is { Count: > 0 } indices)
            return indices.All(m => m.Groups[1].Value.TrimStart('0').Length == 0) ? Rank.Zero : Rank.Other;
        return process.StartsWith("Worker", StringComparison.Ordinal) || process.StartsWith("VllmWorker", StringComparison.Ordinal)
            ? Rank.Unknown
            : Rank.Zero;
    }

    private static void ReadConfig(string config, Dictionary<string, string> settings, ref string? model)
    {
        foreach (Match m in ConfigField().Matches(config))
        {
            string key = m.Groups[1].Value, value = m.Groups[2].Value.Trim().Trim('\'');
            switch (key)
            {
                case "model":
                    model ??= ServingLogValues.ModelName(value);
                    break;
                case "max_seq_len":
                    settings.TryAdd("max_model_len", value);
                    break;
                case "dtype":
                    settings.TryAdd("dtype", value.Replace("torch.", "", StringComparison.Ordinal));
                    break;
                case "quantization" when value != "None":
                case "tensor_parallel_size" or "pipeline_parallel_size" or "kv_cache_dtype":
                    settings.TryAdd(key, value);
                    break;
                case "enforce_eager" or "enable_prefix_caching":
                    settings.TryAdd(key, value.ToLowerInvariant());
                    break;
            }
        }
    }

    private static void ReadNonDefaultArgs(string args, Dictionary<string, string> settings, ref string? model)
    {
        foreach (Match m in DictEntry().Matches(args))
        {
            string key = m.Groups[1].Value, value = m.Groups[2].Value.Trim().Trim('\'');
            if (key == "model")
                model ??= ServingLogValues.ModelName(value);
            else if (key is "tensor_parallel_size" or "pipeline_parallel_size" or "data_parallel_size" or "gpu_memory_utilization"
                     or "max_model_len" or "max_num_seqs" or "max_num_batched_tokens" or "quantization" or "kv_cache_dtype"
                     or "block_size" or "cpu_offload_gb" or "max_lora_rank" or "max_loras")
                settings[key] = value;
            else if (key is "enforce_eager" or "enable_prefix_caching" or "enable_lora" or "enable_expert_parallel" or "enable_chunked_prefill")
                settings[key] = value.ToLowerInvariant();
            else if (key == "dtype")
                settings[key] = value.Replace("torch.", "", StringComparison.Ordinal);
        }
    }

    private static double Number(string text) => ServingLogValues.Number(text, "vLLM");

    // "Initializing a V1 LLM engine (v0.10.1.1) with config:" / "Initializing an LLM engine (v0.6.4.post1) with config:"
    [GeneratedRegex(@"Initializing an? (V[01] )?LLM engine \(v([0-9][0-9A-Za-z.+]*)\) with config:")]
    private static partial Regex EngineConfig();

    [GeneratedRegex(@"vLLM API server version v?([0-9][0-9A-Za-z.+]*)")]
    private static partial Regex ServerVersion();

    [GeneratedRegex(@"non-default args: \{(.*)\}")]
    private static partial Regex NonDefaultArgs();

    [GeneratedRegex(@"'(\w+)': ('[^']*'|[^,}]+)")]
    private static partial Regex DictEntry();

    [GeneratedRegex(@"(\w+)=('[^']*'|[^,]*)")]
    private static partial Regex ConfigField();

    [GeneratedRegex(@"max_num_batched_tokens=(\d+)")]
    private static partial Regex ChunkedPrefill();

    // the start of a log record: the level and vLLM's "MM-DD hh:mm:ss" timestamp
    [GeneratedRegex(@"\b(?:INFO|WARNING|DEBUG|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d")]
    private static partial Regex RecordStart();

    // the process prefix multiprocessing and Ray add to each line: "(VllmWorkerProcess pid=12)", "(Worker_TP1 pid=3)"
    [GeneratedRegex(@"\(([A-Za-z][\w]*(?: rank=\d+)?) pid=\d+(?:,[^)]*)?\)")]
    private static partial Regex ProcessPrefix();

    // "_TP1", "_PP0", "_DP2", "_EP3", " rank=1" in a process name
    [GeneratedRegex(@"(?:_(?:TP|PP|DP|EP)|rank=)(\d+)")]
    private static partial Regex RankIndex();

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();

    // "Model loading took 14.2488 GiB and 5.03 seconds" / "Loading model weights took 8.5107 GB"
    [GeneratedRegex(@"(?:Model loading|Loading model weights) took ([0-9.]+) Gi?B")]
    private static partial Regex WeightsTook();

    // "the current vLLM instance can use total_gpu_memory (79.25GiB) x gpu_memory_utilization (0.15) = 11.89GiB"
    [GeneratedRegex(@"total_gpu_memory \(([0-9.]+)\s*GiB\) x gpu_memory_utilization \(([0-9.]+)\)")]
    private static partial Regex ProfileBudget();

    // "model weights take 8.51GiB; non_torch_memory takes 0.26GiB; PyTorch activation peak memory takes 0.94GiB;
    // the rest of the memory reserved for KV Cache is 2.18GiB."
    [GeneratedRegex(@"model weights take ([0-9.]+)\s*GiB; non_torch_memory takes ([0-9.]+)\s*GiB; PyTorch activation peak memory takes ([0-9.]+)\s*GiB; the rest of the memory reserved for KV Cache is (-?[0-9.]+)\s*GiB")]
    private static partial Regex ProfileFigures();

    // 0.6.4: "Memory profiling results: total_gpu_memory=47.74GiB ... non_torch_memory=4.09GiB kv_cache_size=0.39GiB gpu_memory_utilization=0.95"
    [GeneratedRegex(@"Memory profiling results: total_gpu_memory=([0-9.]+)GiB.*non_torch_memory=([0-9.]+)GiB kv_cache_size=(-?[0-9.]+)GiB gpu_memory_utilization=([0-9.]+)")]
    private static partial Regex OldProfile();

    // 0.10.2+: "Free memory on device (78.55/79.25 GiB) on startup. Desired GPU memory utilization is (0.25, 19.81 GiB)."
    [GeneratedRegex(@"Free memory on device \([0-9.]+/([0-9.]+) GiB\) on startup\. Desired GPU memory utilization is \(([0-9.]+),")]
    private static partial Regex StartupMemory();

    [GeneratedRegex(@"Available KV cache memory: (-?[0-9.]+) GiB")]
    private static partial Regex AvailableKv();

    // "# GPU blocks: 715, # CPU blocks: 1310" / "# CUDA blocks: 6001, # CPU blocks: 1638"
    [GeneratedRegex(@"# (?:GPU|CUDA|cuda) blocks: (\d+)")]
    private static partial Regex Blocks();

    [GeneratedRegex(@"GPU KV cache size: ([0-9,]+) tokens")]
    private static partial Regex KvTokens();

    // "Maximum concurrency for 16,384 tokens per request: 5.73x"
    [GeneratedRegex(@"Maximum concurrency for ([0-9,]+) tokens per request: ([0-9.]+)x")]
    private static partial Regex Concurrency();

    // "Graph capturing finished in 6 secs, took 0.50 GiB" / "CUDA graph takes 0.27 GiB"
    [GeneratedRegex(@"(?:Graph capturing finished in [0-9.]+ secs?, took|CUDA graph takes) ([0-9.]+) GiB")]
    private static partial Regex GraphsTook();
}
