using System.Collections.Immutable;

namespace VramFit.Reports;

/// <summary>What a memory item is for; the columns of every breakdown.</summary>
public enum MemoryCategory
{
    Weights,
    KvCache,
    RecurrentState,
    Activations,
    Output,
    Overhead,
}

/// <summary>One input of a formula, with its unit ("hidden_size = 4096", "kv dtype = 2 B").</summary>
public readonly record struct FormulaInput(string Name, double Value, string Unit = "");

/// <summary>
/// One item of an itemized memory estimate: its bytes, where it lives, and the formula with the inputs
/// that produced it, so <c>--explain</c>, the web tooltips and the validation report can show the arithmetic.
/// </summary>
public sealed record MemoryItem
{
    public required string Name { get; init; }

    public required MemoryCategory Category { get; init; }

    public required long Bytes { get; init; }

    /// <summary>The device or buffer it is allocated on ("GPU0", "CUDA0", "CUDA_Host", "CPU").</summary>
    public required string Device { get; init; }

    /// <summary>The formula in words ("2 × layers × kv_heads × head_dim × tokens × bytes").</summary>
    public string Formula { get; init; } = "";

    public ImmutableArray<FormulaInput> Inputs { get; init; } = [];

    /// <summary>Sub-items whose sum is <see cref="Bytes"/> (e.g. K and V; SWA and full caches).</summary>
    public ImmutableArray<MemoryItem> Children { get; init; } = [];

    /// <summary>Where the rule comes from (engine, version, source file or log line).</summary>
    public string? Origin { get; init; }
}

/// <summary>Memory use of one device (a GPU rank, or host memory) in a report.</summary>
public sealed record DeviceMemory
{
    public required string Device { get; init; }

    /// <summary>Capacity of the device in bytes; 0 when unknown (host buffers).</summary>
    public long CapacityBytes { get; init; }

    /// <summary>True for accelerator memory that counts toward "fits".</summary>
    public bool IsAccelerator { get; init; } = true;

    public required ImmutableArray<MemoryItem> Items { get; init; }

    public long TotalBytes => Items.Sum(i => i.Bytes);

    public long BytesOf(MemoryCategory category) => Items.Where(i => i.Category == category).Sum(i => i.Bytes);

    /// <summary>Free bytes left (negative when over).</summary>
    public long HeadroomBytes => CapacityBytes - TotalBytes;

    public bool Fits => !IsAccelerator || CapacityBytes <= 0 || TotalBytes <= CapacityBytes;
}

/// <summary>
/// The result of one engine estimate: the model's parameters, and per device the itemized memory. Engines
/// with a KV pool (vLLM, SGLang …) also fill <see cref="Capacity"/>.
/// </summary>
public sealed record MemoryReport
{
    public required string Engine { get; init; }

    public required string Model { get; init; }

    public required long Parameters { get; init; }

    public required ImmutableArray<DeviceMemory> Devices { get; init; }

    /// <summary>Notes and warnings an engine would print (e.g. "quantized V cache needs flash attention").</summary>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>Settings as the engine resolved them, in the engine's own names, for the explanation.</summary>
    public ImmutableArray<FormulaInput> Settings { get; init; } = [];

    public ServingCapacity? Capacity { get; init; }

    /// <summary>
    /// The figures the real engine would print, under the names of the validation case format
    /// (shared/validation/SCHEMA.md): "model_buffer_mib.CUDA0", "kv_buffer_mib.CUDA0", "k_mib", "kv_cells",
    /// "weights_gib", "gpu_blocks", "max_concurrency" …. <c>vramfit validate</c> compares these by name.
    /// </summary>
    /// <remarks>A read-only view: engines build it once per estimate (a plain dictionary behind a read-only wrapper is
    /// a fifth of the cost of an immutable one, which was 2 µs of a 10 µs llama.cpp estimate).</remarks>
    public IReadOnlyDictionary<string, double> PrintedFigures { get; init; } = ImmutableDictionary<string, double>.Empty;

    /// <summary>The engine's launch command for this configuration, when the engine has one.</summary>
    public string? LaunchCommand { get; init; }

    /// <summary>True when every accelerator holds its items.</summary>
    public bool Fits => Devices.All(d => d.Fits);

    public IEnumerable<DeviceMemory> Accelerators => Devices.Where(d => d.IsAccelerator);
}

/// <summary>KV-pool capacity of a serving engine (vLLM, SGLang, TensorRT-LLM, TGI) per rank.</summary>
public sealed record ServingCapacity
{
    public required long KvCacheBytes { get; init; }

    public required long KvCacheTokens { get; init; }

    /// <summary>Paged blocks (vLLM, TensorRT-LLM); null for engines without blocks.</summary>
    public long? GpuBlocks { get; init; }

    public int? BlockSize { get; init; }

    /// <summary>Requests of max_model_len tokens that fit at once.</summary>
    public required double MaxConcurrency { get; init; }

    /// <summary>Longest max_model_len the pool supports (the engine's suggestion when it does not fit).</summary>
    public long? MaxModelLen { get; init; }

    /// <summary>The engine's own error text when the configuration would not start, else null.</summary>
    public string? EngineError { get; init; }
}
