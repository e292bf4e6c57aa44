using System.Collections.Immutable;
using System.Globalization;
using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>GPU backend of a llama.cpp build; decides buffer names ("CUDA0", "Vulkan0", "Metal" …).</summary>
public enum LlamaCppBackend
{
    Cuda,
    Rocm,
    Vulkan,
    Sycl,
    Metal,
    Cpu,
}

/// <summary>
/// llama.cpp's settings as its options name them (common/arg.cpp), with llama.cpp's defaults. Parsed once per
/// estimate; every value is validated and names the option on error.
/// </summary>
public sealed record LlamaCppSettings
{
    /// <summary>Every setting name the engine understands.</summary>
    public static IReadOnlyCollection<string> Names { get; } = ImmutableSortedSet.Create(StringComparer.Ordinal,
        "ctx_size", "batch_size", "ubatch_size", "flash_attn", "cache_type_k", "cache_type_v", "parallel", "kv_unified",
        "n_gpu_layers", "split_mode", "tensor_split", "main_gpu", "override_tensor", "n_cpu_moe", "cpu_moe", "swa_full",
        "no_kv_offload", "mmap", "no_mmap", "devices", "backend", "build", "mla_use", "embeddings", "no_op_offload", "fused_moe", "split_files",
        "binary", "npl", "run_time_repack");

    public required int CtxSize { get; init; }
    public required int BatchSize { get; init; }
    public required int UbatchSize { get; init; }
    public required bool FlashAttention { get; init; }
    public required GgmlTypeTraits CacheTypeK { get; init; }
    public required GgmlTypeTraits CacheTypeV { get; init; }
    public required int Parallel { get; init; }
    public required bool KvUnified { get; init; }
    public required int GpuLayers { get; init; }
    public required string SplitMode { get; init; }
    public required ImmutableArray<double> TensorSplit { get; init; }
    public required ImmutableArray<(string Pattern, string Buffer)> Overrides { get; init; }
    public required int CpuMoeLayers { get; init; }
    public required bool SwaFull { get; init; }
    public required bool KvOffload { get; init; }
    public required bool Mmap { get; init; }
    public required int Devices { get; init; }
    public required LlamaCppBackend Backend { get; init; }

    /// <summary>
    /// Number of split GGUF files (model-00001-of-0000N.gguf) when the model description has no real file layout:
    /// each file maps as its own host buffer.
    /// </summary>
    public int SplitFiles { get; init; } = 1;

    /// <summary>The build names Metal devices "MTL0", "MTL1" … (<see cref="LlamaCppVersion.IndexedMetalNames"/>).</summary>
    public bool IndexedMetalNames { get; init; }
    public required int MlaUse { get; init; }

    /// <summary>--main-gpu: the GPU of every layer with split_mode none or row.</summary>
    public required int MainGpu { get; init; }

    /// <summary>--embeddings: the output buffer also holds n_embd floats per output.</summary>
    public required bool Embeddings { get; init; }

    /// <summary>The llama.cpp program that ran ("llama-server", "llama-cli", "llama-batched-bench" …); null = a
    /// plain library context (llama-cli and the benches behave alike).</summary>
    public string? Binary { get; init; }

    /// <summary>llama-batched-bench --npl: the parallel-sequence counts it sweeps (it sizes the context for the largest).</summary>
    public int MaxNpl { get; init; }

    /// <summary>
    /// Sequences the context is created for (cparams.n_seq_max), which sizes the output buffer: --parallel; plus one
    /// for llama-server in ik_llama.cpp and mainline builds before b5000, whose server "dedicates one sequence to
    /// the system prompt" (server.cpp load_model: params.n_parallel += 1); the largest --npl for
    /// llama-batched-bench (n_seq_max = max(n_pl)). The mainline cut-off is bounded by evidence, not a commit:
    /// the late-2024 server still had it, b6699's log (gpt-oss, issue 822) shows one output row per slot.
    /// </summary>
    public int SequencesForOutputs(LlamaCppVersion version) => Binary switch
    {
        "llama-server" or "server" when version.IkLlama || version.Build < 5000 => Math.Max(1, Parallel) + 1,
        "llama-batched-bench" or "batched-bench" when MaxNpl > 0 => MaxNpl,
        _ => Math.Max(1, Parallel),
    };
    public required bool OpOffload { get; init; }

    /// <summary>ik_llama.cpp -fmoe: fused MoE up/gate kernel.</summary>
    public required bool FusedMoe { get; init; }

    /// <summary>Reads settings; <paramref name="defaultDevices"/> and <paramref name="defaultBackend"/> come from the deployment.</summary>
    public static LlamaCppSettings From(EngineSettings s, Workload w, int defaultDevices, LlamaCppBackend defaultBackend, bool ikLlama)
    {
        s.EnsureKnown(ikLlama ? "ik_llama.cpp" : "llama.cpp", Names);
        int ctx = s.GetInt("ctx_size", (int)Math.Min(w.ContextTokens ?? 4096, int.MaxValue), 0, 1 << 26);
        int batch = s.GetInt("batch_size", 2048, 1, 1 << 20);           // common.h n_batch = 2048
        int ubatch = s.GetInt("ubatch_size", 512, 1, 1 << 20);          // common.h n_ubatch = 512
        var kv = w.KvCacheType is { } t && GgmlTypes.TryParse(t, out _) ? t : "f16";
        var typeK = CacheType(s, "cache_type_k", kv);
        var typeV = CacheType(s, "cache_type_v", kv);
        // --flash-attn defaults to "auto" (on where supported) since 2025-08; ik_llama.cpp defaults to off
        bool fa = s.GetBool("flash_attn", w.Attention is { } a ? a == "flash" : !ikLlama);
        int devices = s.GetInt("devices", defaultDevices, 0, 64);
        var backend = devices == 0 ? LlamaCppBackend.Cpu : ParseBackend(s.GetString("backend"), defaultBackend);
        return new LlamaCppSettings
        {
            CtxSize = ctx,
            BatchSize = batch,
            UbatchSize = Math.Min(ubatch, batch),
            FlashAttention = fa,
            CacheTypeK = typeK,
            CacheTypeV = typeV,
            Parallel = s.GetInt("parallel", w.Batch ?? 1, 1, 4096),
            KvUnified = s.GetBool("kv_unified", false),
            GpuLayers = s.GetInt("n_gpu_layers", 999, -1, 1 << 20) is var ngl && ngl < 0 ? 999 : ngl,
            SplitMode = (s.GetString("split_mode") ?? "layer").Trim().ToLowerInvariant() is var sm && sm is "layer" or "row" or "none" or "graph"
                ? sm : throw new InvalidSettingException("split_mode", $"'{sm}' is not one of none, layer, row"),
            TensorSplit = Split(s.GetString("tensor_split")),
            Overrides = ParseOverrides(s.GetString("override_tensor")),
            CpuMoeLayers = s.GetBool("cpu_moe", false) ? 1 << 20 : s.GetInt("n_cpu_moe", 0, 0, 1 << 20),
            SwaFull = s.GetBool("swa_full", false),
            KvOffload = !s.GetBool("no_kv_offload", false),
            // ik_llama.cpp's -rtr (run-time repack) turns mmap off (ik_llama.cpp PR #147: repacking rewrites the weights)
            Mmap = !s.GetBool("run_time_repack", false) && (s.Has("no_mmap") ? !s.GetBool("no_mmap", false) : s.GetBool("mmap", true)),
            Devices = devices,
            Backend = backend,
            SplitFiles = s.GetInt("split_files", 1, 1, 1024),
            MlaUse = s.GetInt("mla_use", 0, 0, 3),
            MainGpu = s.GetInt("main_gpu", 0, 0, Math.Max(0, devices - 1)),
            Embeddings = s.GetBool("embeddings", false),
            Binary = s.GetString("binary")?.Trim().ToLowerInvariant().Replace(".exe", "", StringComparison.Ordinal) is { Length: > 0 } bin
                ? Path.GetFileName(bin) : null,
            MaxNpl = MaxOf(s.GetString("npl")),
            OpOffload = !s.GetBool("no_op_offload", false),
            FusedMoe = ikLlama && s.GetBool("fused_moe", false),
        };
    }

    private static GgmlTypeTraits CacheType(EngineSettings s, string name, string fallback)
    {
        var text = s.GetString(name) ?? fallback;
        // ipex-llm's "i8" is an 8-bit integer cache of one byte per element
        if (text.Trim().Equals("i8", StringComparison.OrdinalIgnoreCase))
            return GgmlTypes.Get(GgmlType.I8);
        if (!GgmlTypes.TryParse(text.Trim(), out var t))
            throw new InvalidSettingException(name, $"'{text}' is not a ggml type (f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, f32)");
        return t;
    }

    private static LlamaCppBackend ParseBackend(string? text, LlamaCppBackend fallback) => (text ?? "").Trim().ToLowerInvariant() switch
    {
        "" => fallback,
        "cuda" => LlamaCppBackend.Cuda,
        "rocm" or "hip" => LlamaCppBackend.Rocm,
        "vulkan" => LlamaCppBackend.Vulkan,
        "sycl" => LlamaCppBackend.Sycl,
        "metal" => LlamaCppBackend.Metal,
        "cpu" => LlamaCppBackend.Cpu,
        var other => throw new InvalidSettingException("backend", $"'{other}' is not one of cuda, rocm, vulkan, sycl, metal, cpu"),
    };

    private static ImmutableArray<double> Split(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return [];
        var parts = text.Split([',', '/', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = ImmutableArray.CreateBuilder<double>();
        foreach (var p in parts)
        {
            if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < 0 || double.IsNaN(v))
                throw new InvalidSettingException("tensor_split", $"'{p}' is not a non-negative number");
            values.Add(v);
        }

        return values.Sum() > 0 ? values.ToImmutable() : throw new InvalidSettingException("tensor_split", "all proportions are zero");
    }

    /// <summary>"-ot pattern=buffer" pairs; several given as a JSON-like list or separated by ',' / newlines.</summary>
    private static ImmutableArray<(string, string)> ParseOverrides(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return [];
        var result = ImmutableArray.CreateBuilder<(string, string)>();
        char separator = text.Contains('\n', StringComparison.Ordinal) ? '\n' : ',';
        foreach (var raw in text.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var item = raw.Trim('[', ']', '"', ' ');
            int eq = item.LastIndexOf('=');
            if (eq <= 0 || eq == item.Length - 1)
                throw new InvalidSettingException("override_tensor", $"'{item}' is not <tensor regex>=<buffer type>");
            result.Add((item[..eq], item[(eq + 1)..].Trim()));
        }

        return result.ToImmutable();
    }

    /// <summary>The largest of a comma-separated list of counts ("1,2,4,8" → 8); 0 when absent.</summary>
    private static int MaxOf(string? list)
    {
        int max = 0;
        foreach (var part in (list ?? "").Split([',', ' ', '[', ']'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1 || n > 65536)
                throw new InvalidSettingException("npl", $"'{list}' is not a list of sequence counts");
            max = Math.Max(max, n);
        }

        return max;
    }
}
