using System.Collections.Immutable;
using System.Text.Json;
using VramFit.Sources.Gguf;

namespace VramFit.Validation;

/// <summary>The GPUs of a validation case, as far as the log told.</summary>
public sealed record CaseGpu(string? Name, int? Count, long? TotalMib)
{
    /// <summary>Free memory at start-up as the engine reported it, when known.</summary>
    public long? FreeMib { get; init; }

    /// <summary>
    /// <see cref="FreeMib"/> was read after the engine's own start-up had taken its CUDA context and communication
    /// buffers (SGLang's "avail mem" at "Load weight begin"), not before the engine started.
    /// </summary>
    public bool FreeAfterEngineInit { get; init; }

    /// <summary>The engine's GPU backend as the log names it ("CUDA", "Vulkan", "SYCL", "Metal").</summary>
    public string? Backend { get; init; }
}

/// <summary>One observed figure, flattened as SCHEMA.md says ("kv_buffer_mib.CUDA0", "k_mib[1]").</summary>
public readonly record struct ObservedFigure(string Name, double Value);

/// <summary>
/// One real engine run (shared/validation/SCHEMA.md): the model (GGUF metadata, a GGUF file or a Hugging Face
/// config/id), the engine's own settings and the figures it printed.
/// </summary>
public sealed record ValidationCase
{
    public required string Id { get; init; }

    public required string Engine { get; init; }

    public string? EngineVersion { get; init; }

    public string? Source { get; init; }

    /// <summary>The case's free-text notes (how it was harvested: the program that ran, the command line …).</summary>
    public string? Notes { get; init; }

    public CaseGpu? Gpu { get; init; }

    /// <summary>GGUF metadata given inline (the "gguf" object), when the case describes the model that way.</summary>
    public GgufMetadata? Gguf { get; init; }

    /// <summary>A GGUF file path ("gguf_file"), resolved against the case file's folder.</summary>
    public string? GgufFile { get; init; }

    /// <summary>The model's config.json ("hf_config"), when given.</summary>
    public JsonElement? HfConfig { get; init; }

    public string? HfId { get; init; }

    /// <summary>The GGUF file type a Hugging Face–described run used ("Q4_K_M", "UD-IQ3_XXS"), when given.</summary>
    public string? GgufFileType { get; init; }

    /// <summary>Size of the GGUF file in bytes ("file_size_bytes" of the model, or of its GGUF metadata), when given.</summary>
    public long? FileSizeBytes { get; init; }

    /// <summary>The engine settings as text, by the engine's own names.</summary>
    public required ImmutableArray<KeyValuePair<string, string>> Params { get; init; }

    /// <summary>Observed figures in file order.</summary>
    public required ImmutableArray<ObservedFigure> Observed { get; init; }

    /// <summary>The file the case was read from (for relative paths and messages).</summary>
    public string? File { get; init; }

    public int Line { get; init; }
}
