using System.Collections.Immutable;
using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;
using VramFit.Sources.Gguf;
using VramFit.Sources.HfConfig;

namespace VramFit.Validation;

/// <summary>
/// Estimates every validation case with the engine model its "engine" names and compares the figures the engine
/// would print (<see cref="MemoryReport.PrintedFigures"/>) with those it printed. A case the library cannot
/// handle is reported "skipped" with the reason, never dropped.
/// </summary>
public static class ValidationRunner
{
    /// <summary>Runs every case of the given files (optionally only one engine) into one report.</summary>
    public static ValidationReport RunFiles(IEnumerable<string> files, string? engine = null) =>
        Run(files.SelectMany(ValidationCaseReader.ReadFile), engine);

    /// <summary>Runs cases into a report; <paramref name="engine"/> keeps only cases of that engine.</summary>
    public static ValidationReport Run(IEnumerable<ValidationCase> cases, string? engine = null)
    {
        var results = new List<CaseResult>();
        foreach (var c in cases)
            if (engine is null || string.Equals(c.Engine, engine, StringComparison.OrdinalIgnoreCase))
                results.Add(RunCase(c));
        return ValidationReport.From(results);
    }

    /// <summary>Estimates one case.</summary>
    public static CaseResult RunCase(ValidationCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var families = c.Observed.Select(o => FigureResult.FamilyOf(o.Name)).Distinct(StringComparer.Ordinal).ToImmutableArray();
        CaseResult Skip(string reason) => new(c.Id, c.Engine, CaseResult.Skipped, reason, []) { ObservedFamilies = families };

        IEngineModel engine;
        try
        {
            engine = EngineCatalog.Get(c.Engine);
        }
        catch (VramFitException)
        {
            return Skip($"engine {c.Engine} not modelled yet");
        }

        if (c.Observed.IsEmpty)
            return Skip("no observed figures");
        MemoryReport report;
        try
        {
            var model = ResolveModel(c, out var missing);
            if (model is null)
                return Skip(missing!);
            var request = new EstimateRequest(model, Deployment(c), new Workload(), Settings(c, engine));
            report = engine.Estimate(request);
        }
        catch (VramFitException e)
        {
            return Skip(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OverflowException or ArithmeticException or IndexOutOfRangeException or NullReferenceException)
        {
            // a bug in an engine model must not hide the other cases of the scoreboard: report it on this case
            return Skip($"internal error: {e.GetType().Name}: {e.Message}");
        }

        var predicted = AliasDevices(report.PrintedFigures, c.Observed);
        var figures = ImmutableArray.CreateBuilder<FigureResult>();
        foreach (var o in c.Observed)
        {
            double? p = predicted.TryGetValue(o.Name, out var v) ? v : null;
            figures.Add(new FigureResult(o.Name, o.Value, p is { } x ? Math.Round(x, 4) : null, p is { } y ? ValidationReport.ErrorPct(o.Value, y) : null));
        }

        return new CaseResult(c.Id, c.Engine, CaseResult.Ok, null, figures.ToImmutable()) { ObservedFamilies = families };
    }

    private static ModelDescription? ResolveModel(ValidationCase c, out string? skipReason)
    {
        skipReason = null;
        if (c.Gguf is { } gguf)
        {
            var model = GgufModelTranslator.Translate(gguf, c.Id);
            // metadata-only cases: tensor sizes from llama-quant's type choice, calibrated to the file's size
            if (model.Checkpoint is null && gguf.GetLong("file_size_bytes") is { } size && size > 0)
                model = model.WithCheckpoint(LlamaCppTensors.Estimate(model, size));
            return model;
        }

        // a GGUF file next to the case file: its header gives the exact tensors (llama.cpp's "exact tensor sizes")
        string? ggufPath = c.GgufFile is { } f ? (Path.IsPathRooted(f) ? f : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(c.File ?? ".")) ?? ".", f)) : null;
        if (ggufPath is not null && File.Exists(ggufPath))
            return ModelLookup.Resolve(ggufPath, offline: true);

        if (c.HfConfig is { } config)
            return AsGguf(HfConfigReader.Read(new HfConfig(config, c.HfId), c.HfId ?? c.Id, "validation case"), c);
        if (c.HfId is { } id)
        {
            if (ModelCatalog.TryFind(id) is { } entry)
                return AsGguf(entry.Describe(), c);
            skipReason = $"model not in catalog: {id}";
            return null;
        }

        if (c.GgufFile is { } file)
        {
            skipReason = $"gguf_file not found: {file}";
            return null;
        }

        skipReason = "the case describes no model (gguf, gguf_file, hf_config or hf_id)";
        return null;
    }

    /// <summary>
    /// A Hugging Face–described model that the run used as a GGUF of a given file type: its tensors as
    /// llama-quant.cpp would store them (calibrated to the file size when known).
    /// </summary>
    private static ModelDescription AsGguf(ModelDescription model, ValidationCase c)
    {
        if (c.GgufFileType is not { Length: > 0 } raw)
            return model;
        // unsloth "UD-" (dynamic) files keep the base type's name after the prefix
        string ftype = raw.StartsWith("UD-", StringComparison.OrdinalIgnoreCase) ? raw[3..] : raw;
        var main = Sources.Gguf.GgufModelTranslator.MainTypeOf(ftype);
        var format = new Numerics.WeightFormat
        {
            Kind = Numerics.WeightFormatKind.Ggml,
            Name = ftype.ToUpperInvariant(),
            DenseType = Numerics.ScalarType.F32,
            GgmlType = main ?? Numerics.GgmlType.F16,
        };
        var quantized = model.WithCheckpoint(null).WithFormat(format);
        return quantized.WithCheckpoint(LlamaCppTensors.Estimate(quantized, c.FileSizeBytes));
    }

    private static EngineSettings Settings(ValidationCase c, IEngineModel engine)
    {
        var known = engine.SettingNames;
        // only the settings the engine model uses; sampling, threads, paths … do not change memory
        var settings = new EngineSettings(c.Params.Where(p => known.Contains(p.Key.Replace('-', '_'))));
        if (c.EngineVersion is { } version)
        {
            if (known.Contains("build"))
                settings = settings.WithDefault("build", version);
            else if (known.Contains("engine_version"))
                settings = settings.WithDefault("engine_version", version);
        }

        // the run happened, so the engine accepted its max_model_len: a config whose rope_scaling stretches the derived
        // length (vLLM _get_and_verify_max_len multiplies by the factor) or VLLM_ALLOW_LONG_MAX_MODEL_LEN, neither of
        // which the catalog's published config shows
        if (known.Contains("allow_long_max_model_len") && c.Params.Any(p => p.Key == "max_model_len"))
            settings = settings.WithDefault("allow_long_max_model_len", "true");
        // Unsloth's fast_inference exports VLLM_USE_FLASHINFER_SAMPLER=1 when FlashInfer imports and the GPU is sm80+ or
        // vLLM is 0.11+ (unsloth_zoo vllm_utils.py load_vllm); from 0.11 FlashInfer ships with vLLM, so it is importable
        if (known.Contains("use_flashinfer_sampler") && c.Notes?.Contains("Unsloth", StringComparison.Ordinal) == true
            && c.EngineVersion is { } v && Engines.Vllm.VllmVersion.Parse(v) is { V1: true } parsed && parsed.AtLeast(11))
            settings = settings.WithDefault("use_flashinfer_sampler", "true");
        // a V0 TP run prints one profile line per rank; the case's notes say when the quoted line is another worker's
        if (known.Contains("printed_rank") && c.Notes is { } quoted
            && System.Text.RegularExpressions.Regex.IsMatch(quoted, @"\(per-worker\) profile line|worker rank [1-9]\d* line|non-driver worker", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
            settings = settings.WithDefault("printed_rank", "worker");
        // a split GGUF prints one mapped host buffer per file ("CPU_Mapped[0]" … "[n-1]"); the count is the file layout
        // of the run, which the metadata does not carry
        if (known.Contains("split_files")
            && c.Observed.Select(o => System.Text.RegularExpressions.Regex.Match(o.Name, @"^model_buffer_mib\.CPU(?:_Mapped)?\[(\d+)\]$"))
                .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1)
                .DefaultIfEmpty(1).Max() is var files && files > 1)
            settings = settings.WithDefault("split_files", files.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (known.Contains("backend") && (c.Gpu?.Backend?.ToLowerInvariant() ?? BackendFromBufferNames(c.Observed)) is { } backend)
            settings = settings.WithDefault("backend", backend);
        // harvested cases name the program in their notes ("binary: llama-server"): the server reserves an extra sequence
        if (known.Contains("binary") && c.Notes is { } notes
            && System.Text.RegularExpressions.Regex.Match(notes, @"\bbinary:\s*([A-Za-z0-9_.\-]+)") is { Success: true } binary)
            settings = settings.WithDefault("binary", binary.Groups[1].Value);
        return settings;
    }

    /// <summary>The GPU backend as the printed buffer names reveal it ("Vulkan0", "SYCL_Host", "Metal").</summary>
    private static string? BackendFromBufferNames(ImmutableArray<ObservedFigure> observed)
    {
        foreach (var (prefix, backend) in new[] { ("Vulkan", "vulkan"), ("SYCL", "sycl"), ("Metal", "metal"), ("ROCm", "rocm"), ("CUDA", "cuda") })
            if (observed.Any(o => o.Name.Contains("." + prefix, StringComparison.Ordinal)))
                return backend;
        return null;
    }

    /// <summary>
    /// The case's GPUs: the catalog part when its name is known (vendor, datasheet memory), with the memory the log
    /// reported (total_mib, free_mib) winning; unknown names keep the reported memory (80 GiB when none is given).
    /// </summary>
    private static Deployment Deployment(ValidationCase c)
    {
        int count = c.Gpu?.Count ?? (c.Params.FirstOrDefault(p => p.Key == "devices").Value is { } d && int.TryParse(d, out var n) ? n : 1);
        string name = c.Gpu?.Name ?? "unknown GPU";
        var known = c.Gpu?.Name is { } gpuName ? AcceleratorCatalog.TryFind(gpuName) : null;
        var vendor = known?.Vendor
            ?? (name.Contains("AMD", StringComparison.OrdinalIgnoreCase) || name.Contains("Radeon", StringComparison.OrdinalIgnoreCase) ? AcceleratorVendor.Amd
            : name.Contains("Intel", StringComparison.OrdinalIgnoreCase) ? AcceleratorVendor.Intel
            : name.Contains("Apple", StringComparison.OrdinalIgnoreCase) ? AcceleratorVendor.Apple
            : AcceleratorVendor.Nvidia);
        long memory = c.Gpu?.TotalMib is { } mib ? mib << 20 : known?.MemoryBytes ?? 80L << 30;
        var gpu = (known ?? new Accelerator { Id = "case-gpu", Name = name, Vendor = vendor, MemoryBytes = memory, MemoryBandwidthGBps = 0 })
            with { MemoryBytes = memory };
        // a logged total is what the engine itself saw (vLLM prints torch's total_gpu_memory): it replaces the catalog's
        if (c.Gpu?.TotalMib is not null)
            gpu = gpu with { CudaTotalBytes = memory };
        // SGLang's "avail mem" before loading was read after its start-up: the engine takes it as is
        return new Deployment(gpu, Math.Max(1, count), freeBytesPerGpu: c.Gpu?.FreeMib << 20) { FreeReadAfterEngineStart = c.Gpu?.FreeAfterEngineInit ?? false };
    }

    /// <summary>
    /// Backends that name devices by their description (Vulkan: "AMD Radeon RX 7900 XTX (RADV NAVI31)") print
    /// names no estimator can know; when the printed and predicted device names that do not match pair up one to
    /// one, the predicted ones take the printed names (in order).
    /// </summary>
    private static IReadOnlyDictionary<string, double> AliasDevices(IReadOnlyDictionary<string, double> predicted, ImmutableArray<ObservedFigure> observed)
    {
        static string? Device(string name)
        {
            int dot = name.IndexOf('.');
            if (dot < 0) return null;
            var rest = name[(dot + 1)..];
            int end = rest.IndexOfAny(['.', '[']);
            return end < 0 ? rest : rest[..end];
        }

        static bool IsGpu(string d) => !d.StartsWith("CPU", StringComparison.Ordinal) && !d.EndsWith("_Host", StringComparison.Ordinal) && d != "Host" && !d.EndsWith("_Split", StringComparison.Ordinal);
        var predictedDevices = predicted.Keys.Select(Device).OfType<string>().Where(IsGpu).ToHashSet(StringComparer.Ordinal);
        var observedDevices = observed.Select(o => Device(o.Name)).OfType<string>().Where(IsGpu).ToHashSet(StringComparer.Ordinal);
        var unmatchedPredicted = predictedDevices.Except(observedDevices).Order(StringComparer.Ordinal).ToList();
        var unmatchedObserved = observedDevices.Except(predictedDevices).Order(StringComparer.Ordinal).ToList();
        if (unmatchedPredicted.Count == 0 || unmatchedPredicted.Count != unmatchedObserved.Count)
            return predicted;
        var rename = unmatchedPredicted.Zip(unmatchedObserved).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in predicted)
        {
            var d = Device(key);
            result[d is not null && rename.TryGetValue(d, out var to) ? key.Replace("." + d, "." + to, StringComparison.Ordinal) : key] = value;
        }

        return result;
    }
}
