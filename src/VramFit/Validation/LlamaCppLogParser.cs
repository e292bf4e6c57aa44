using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VramFit.Errors;
using VramFit.Sources.Gguf;

namespace VramFit.Validation;

/// <summary>
/// Turns a llama.cpp (or ik_llama.cpp) log into a validation case: the model's hyper-parameters from the
/// <c>print_info:</c> / <c>llm_load_print_meta:</c> lines, the context settings from <c>llama_context:</c> /
/// <c>llama_new_context_with_model:</c>, and the figures it printed (model, KV, compute and output buffers, the
/// KV size line). Lets users add their own truth with <c>vramfit explain-log</c>.
/// </summary>
public static partial class LlamaCppLogParser
{
    // print_info key → GGUF key suffix (llama.cpp src/llama-model.cpp print_info)
    private static readonly Dictionary<string, string> MetaKeys = new(StringComparer.Ordinal)
    {
        ["n_ctx_train"] = ".context_length", ["n_embd"] = ".embedding_length", ["n_layer"] = ".block_count",
        ["n_head"] = ".attention.head_count", ["n_head_kv"] = ".attention.head_count_kv", ["n_embd_head_k"] = ".attention.key_length",
        ["n_embd_head_v"] = ".attention.value_length", ["n_swa"] = ".attention.sliding_window", ["n_swa_pattern"] = ".attention.sliding_window_pattern",
        ["n_ff"] = ".feed_forward_length", ["n_expert"] = ".expert_count", ["n_expert_used"] = ".expert_used_count",
        ["n_ff_exp"] = ".expert_feed_forward_length", ["n_expert_shared"] = ".expert_shared_count", ["n_ff_shexp"] = ".expert_shared_feed_forward_length",
        ["n_layer_dense_lead"] = ".leading_dense_block_count", ["n_lora_q"] = ".attention.q_lora_rank", ["n_lora_kv"] = ".attention.kv_lora_rank",
        ["n_embd_head_k_mla"] = ".attention.key_length_mla", ["n_embd_head_v_mla"] = ".attention.value_length_mla", ["n_rot"] = ".rope.dimension_count",
        ["nextn_predict_layers"] = ".nextn_predict_layers", ["n_vocab"] = "tokenizer.vocab_size",
    };

    // printed file type ("Q4_K - Medium") → llama-quantize name
    private static readonly Dictionary<string, string> FileTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Q4_K - Medium"] = "Q4_K_M", ["Q4_K - Small"] = "Q4_K_S", ["Q5_K - Medium"] = "Q5_K_M", ["Q5_K - Small"] = "Q5_K_S",
        ["Q3_K - Medium"] = "Q3_K_M", ["Q3_K - Small"] = "Q3_K_S", ["Q3_K - Large"] = "Q3_K_L", ["Q2_K - Medium"] = "Q2_K",
        ["Q2_K - Small"] = "Q2_K_S", ["MXFP4 MoE"] = "MXFP4_MOE", ["IQ3_S mix - 3.66 bpw"] = "IQ3_M",
    };

    /// <summary>Parses a log; <paramref name="id"/> names the case.</summary>
    public static ValidationCase Parse(string log, string id = "from-log")
    {
        ArgumentNullException.ThrowIfNull(log);
        var meta = new Dictionary<string, object>(StringComparer.Ordinal);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var observed = new List<ObservedFigure>();
        var kvCount = new Dictionary<string, int>(StringComparer.Ordinal);
        string? arch = null, version = null;
        bool ik = log.Contains("mla_attn", StringComparison.Ordinal) || log.Contains("fused_moe", StringComparison.Ordinal) || log.Contains("attn_max_b", StringComparison.Ordinal);
        int kvLines = 0;
        (double Mib, int Device)? failed = null;
        foreach (var raw in log.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (Build().Match(line) is { Success: true } b)
                version ??= b.Groups[1].Value + (b.Groups[2].Success ? $" ({b.Groups[2].Value})" : "");
            if (PrintInfo().Match(line) is { Success: true } p)
            {
                string key = p.Groups[1].Value.Trim(), value = p.Groups[2].Value.Trim();
                if (key == "arch")
                    arch = value;
                else if (key is "file type" or "model ftype")
                    meta["general.file_type_name"] = FileType(value);
                else if (key == "file size" && Size().Match(value) is { Success: true } fs)
                    meta["file_size_bytes"] = (long)(double.Parse(fs.Groups[1].Value, CultureInfo.InvariantCulture) * Unit(fs.Groups[2].Value));
                else if (key == "model params" && Size().Match(value) is { Success: true } mp)
                    meta["model_params"] = (long)(double.Parse(mp.Groups[1].Value, CultureInfo.InvariantCulture) * Unit(mp.Groups[2].Value));
                else if (key == "general.name")
                    meta["general.name"] = value;
                else if (MetaKeys.TryGetValue(key, out var ggufKey) && Number(value) is { } n)
                    meta[ggufKey] = n;
                continue;
            }

            if (ContextSetting().Match(line) is { Success: true } c)
            {
                string key = c.Groups[1].Value, value = c.Groups[2].Value.Trim();
                string? name = key switch
                {
                    "n_ctx" => "ctx_size", "n_batch" => "batch_size", "n_ubatch" => "ubatch_size", "flash_attn" => "flash_attn",
                    "n_seq_max" => "parallel", "kv_unified" => "kv_unified", "swa_full" => "swa_full", "mla_attn" => "mla_use", "fused_moe" => "fused_moe",
                    _ => null,
                };
                if (name is not null && !settings.ContainsKey(name))
                    settings[name] = value switch { "enabled" or "auto" => "true", "disabled" => "false", _ => value };
            }

            // a run that ran out of memory: "allocating 25145.56 MiB on device 0: cudaMalloc failed: out of memory"
            // is the buffer llama.cpp wanted; the next lines say which one (KV cache, compute, else the model)
            if (FailedAlloc().Match(line) is { Success: true } fa)
                failed = (double.Parse(fa.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(fa.Groups[2].Value, CultureInfo.InvariantCulture));
            if (failed is { } f && (line.Contains("kv cache", StringComparison.OrdinalIgnoreCase) || line.Contains("compute", StringComparison.Ordinal) || line.Contains("model", StringComparison.Ordinal) || line.Contains("load_tensors", StringComparison.Ordinal)) && !FailedAlloc().IsMatch(line))
            {
                string family = line.Contains("kv cache", StringComparison.OrdinalIgnoreCase) ? "kv_buffer_mib"
                    : line.Contains("compute", StringComparison.Ordinal) ? "compute_buffer_mib" : "model_buffer_mib";
                observed.Add(new ObservedFigure($"{family}.CUDA{f.Device}", f.Mib));
                failed = null;
            }

            if (Offloaded().Match(line) is { Success: true } o)
                settings["n_gpu_layers"] = o.Groups[1].Value;
            if (Buffer().Match(line) is { Success: true } m)
            {
                string buffer = m.Groups[1].Value.Trim(), kind = m.Groups[2].Value.ToLowerInvariant();
                double mib = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                string family = kind switch { "kv" => "kv_buffer_mib", "rs" => "rs_buffer_mib", "compute" => "compute_buffer_mib", "output" => "output_buffer_mib", _ => "model_buffer_mib" };
                var baseName = $"{family}.{buffer}";
                int n = kvCount.GetValueOrDefault(baseName);
                kvCount[baseName] = n + 1;
                observed.Add(new ObservedFigure(n == 0 ? baseName : $"{baseName}[{n}]", mib));
            }

            if (KvSize().Match(line) is { Success: true } kv)
            {
                string suffix = kvLines == 0 ? "" : $"[{kvLines}]";
                if (kv.Groups[1].Success)
                    observed.Add(new ObservedFigure("kv_cells" + suffix, double.Parse(kv.Groups[1].Value, CultureInfo.InvariantCulture)));
                observed.Add(new ObservedFigure("k_mib" + suffix, double.Parse(kv.Groups[3].Value, CultureInfo.InvariantCulture)));
                settings.TryAdd("cache_type_k", kv.Groups[2].Value);
                if (kv.Groups[5].Success)
                {
                    observed.Add(new ObservedFigure("v_mib" + suffix, double.Parse(kv.Groups[5].Value, CultureInfo.InvariantCulture)));
                    settings.TryAdd("cache_type_v", kv.Groups[4].Value);
                }

                kvLines++;
            }
        }

        if (arch is null)
            throw new VramFitException("no 'print_info: arch = …' (or llm_load_print_meta) line: is this a llama.cpp log?");
        var gguf = new List<KeyValuePair<string, object>> { new("general.architecture", arch) };
        foreach (var (k, v) in meta)
            gguf.Add(new(k.StartsWith('.') ? arch + k : k, v));
        var buffers = observed.Where(f => f.Name.Contains('.', StringComparison.Ordinal)).Select(f => f.Name.Split('.', 2)[1].Split('[')[0]).ToHashSet(StringComparer.Ordinal);
        int gpus = buffers.Count(b => GpuBuffer().IsMatch(b));
        settings.TryAdd("devices", gpus.ToString(CultureInfo.InvariantCulture));
        // a second KV line of the same buffer is an iSWA cache: index the first one too
        var fixedObserved = observed.Select(f => kvCount.GetValueOrDefault(f.Name) > 1 ? f with { Name = f.Name + "[0]" } : f)
            .Select(f => kvLines > 1 && f.Name is "k_mib" or "v_mib" or "kv_cells" ? f with { Name = f.Name + "[0]" } : f);
        return new ValidationCase
        {
            Id = id,
            Engine = ik ? "ik_llama.cpp" : "llama.cpp",
            EngineVersion = version,
            Source = "vramfit explain-log",
            Gguf = new GgufMetadata(gguf),
            Params = [.. settings.OrderBy(p => p.Key, StringComparer.Ordinal)],
            Observed = [.. fixedObserved],
        };
    }

    private static string FileType(string printed)
    {
        if (FileTypes.TryGetValue(printed, out var name))
            return name;
        // "IQ4_XS - 4.25 bpw", "Q8_0", "MXFP4 - 4.25 bpw"
        return printed.Split(' ')[0].ToUpperInvariant();
    }

    private static object? Number(string value)
    {
        if (value.StartsWith('['))
        {
            var items = value.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? (object)l : null).ToList();
            return items.All(i => i is not null) ? new GgufArray("int32", items!) : null;
        }

        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            return n;
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    private static double Unit(string unit) => unit switch
    {
        "GiB" => 1 << 30, "MiB" => 1 << 20, "KiB" => 1 << 10, "B" => 1e9, "M" => 1e6, "K" => 1e3, "T" => 1e12, _ => 1,
    };

    [GeneratedRegex(@"build[:=]\s*(\d+)\s*(?:\(([0-9a-f]+)\))?")]
    private static partial Regex Build();

    [GeneratedRegex(@"(?:print_info|llm_load_print_meta):\s*([\w. ]+?)\s*=\s*(.+)$")]
    private static partial Regex PrintInfo();

    [GeneratedRegex(@"(?:llama_context|llama_new_context_with_model|llama_init_from_model):\s*(\w+)\s*=\s*(\S+)")]
    private static partial Regex ContextSetting();

    [GeneratedRegex(@"allocating ([\d.]+) MiB on device (\d+):.*(?:failed|out of memory)")]
    private static partial Regex FailedAlloc();

    [GeneratedRegex(@"offloaded (\d+)/(\d+) layers to GPU")]
    private static partial Regex Offloaded();

    [GeneratedRegex(@":\s+(.+?)\s+(model|KV|RS|compute|output)?\s*buffer size\s*=\s*([\d.]+) MiB")]
    private static partial Regex Buffer();

    // "llama_kv_cache: size = 3072.00 MiB ( 32768 cells, 48 layers, 1/1 seqs), K (f16): 1536.00 MiB, V (f16): 1536.00 MiB"
    // and the older "KV self size = 400.00 MiB, K (f16): 200.00 MiB, V (f16): 200.00 MiB"
    [GeneratedRegex(@"(?:size\s*=\s*[\d.]+ MiB\s*\(\s*(\d+) cells.*?|KV self size\s*=\s*[\d.]+ MiB,\s*)K \((\w+)\):\s*([\d.]+) MiB(?:,\s*V \((\w+)\):\s*([\d.]+) MiB)?")]
    private static partial Regex KvSize();

    [GeneratedRegex(@"^(CUDA|ROCm|Vulkan|SYCL|Metal|MTL)\d*$")]
    private static partial Regex GpuBuffer();

    [GeneratedRegex(@"([\d.]+)\s*(GiB|MiB|KiB|B|M|K|T)\b")]
    private static partial Regex Size();
}
