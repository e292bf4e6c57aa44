using VramFit.Errors;
using VramFit.Reports;

namespace VramFit.Simulation;

/// <summary>How requests are grouped into batches.</summary>
public enum BatchingPolicy
{
    /// <summary>Wait for a full batch, run it to the end of its longest request, return all results together
    /// (HF transformers <c>generate</c> on a padded batch).</summary>
    Static,

    /// <summary>Close a batch when it is full or its oldest request has waited the batch window; the batch runs
    /// to its longest request but each result returns when done (Triton / TorchServe dynamic batcher).</summary>
    Dynamic,

    /// <summary>Iteration-level scheduling: requests join and leave the batch every step over a paged KV pool
    /// (Orca; vLLM, SGLang, TGI, TensorRT-LLM in-flight batching).</summary>
    Continuous,
}

/// <summary>What happens to a running request when the KV pool has no free block.</summary>
public enum PreemptionMode
{
    /// <summary>Free its blocks and recompute prompt and generated tokens later (vLLM default, the only mode in V1).</summary>
    Recompute,

    /// <summary>Copy its blocks to host memory over PCIe and back when resumed (vLLM V0 <c>--preemption-mode swap</c>).</summary>
    Swap,
}

/// <summary>
/// Scheduler and KV-pool settings. Defaults follow the vLLM V1 OpenAI server on a GPU under 70 GiB (or an A100):
/// 256 sequences, 2048 batched tokens with chunked prefill on, 16-token blocks, recompute preemption
/// (vllm/engine/arg_utils.py get_batch_defaults; vllm/config/cache.py block_size 16). <see cref="VllmServeDefaults"/>
/// picks the larger H100-class defaults by device.
/// The pool size comes from an engine estimate (<c>ServingCapacity.KvCacheTokens</c>) or is given directly.
/// </summary>
public sealed record SchedulerOptions
{
    public BatchingPolicy Policy { get; init; } = BatchingPolicy.Continuous;

    /// <summary>Tokens the KV pool holds (all blocks × block size).</summary>
    public required long KvCacheTokens { get; init; }

    /// <summary>Tokens per KV block (vLLM default 16).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Most sequences in one batch (vLLM <c>max_num_seqs</c>; the batch size of static/dynamic).</summary>
    public int MaxNumSeqs { get; init; } = 256;

    /// <summary>Most tokens computed in one iteration (vLLM <c>max_num_batched_tokens</c>).</summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>Split long prompts over iterations and mix them with decodes (vLLM V1 default on).</summary>
    public bool ChunkedPrefill { get; init; } = true;

    public PreemptionMode Preemption { get; init; } = PreemptionMode.Recompute;

    /// <summary>KV bytes per token, to price swapping; needed only with <see cref="PreemptionMode.Swap"/>.</summary>
    public double KvBytesPerToken { get; init; }

    /// <summary>Host link bandwidth for swapping, GB/s. Default 25: achieved pinned-memory PCIe 4.0 x16 copy rate.</summary>
    public double SwapGBps { get; init; } = 25;

    /// <summary>Automatic prefix caching on (vLLM V1 default on).</summary>
    public bool PrefixCaching { get; init; }

    /// <summary>Share of every prompt that is a prefix common to all requests (a system prompt), 0–1.</summary>
    public double SharedPrefixRatio { get; init; }

    /// <summary>Dynamic batching: longest time the oldest waiting request is held for the batch to fill, seconds.</summary>
    public double BatchWindowSeconds { get; init; } = 0.05;

    /// <summary>Schedule every running request one by one in every iteration, without the decode cohort or
    /// fast-forwarding (the reference the tests compare them with).</summary>
    internal bool StepByStep { get; init; }

    public long TotalBlocks => KvCacheTokens / BlockSize;

    /// <summary>
    /// The scheduler limits <c>vllm serve</c> picks for <paramref name="gpu"/>: on devices with at least 70 GiB that
    /// are not A100s, 1024 sequences and 8192 batched tokens, else 256 and 2048 (vllm/engine/arg_utils.py
    /// get_batch_defaults, OPENAI_API_SERVER; PR #17885 excluded the A100, where the larger budget lowered throughput).
    /// </summary>
    public static SchedulerOptions VllmServeDefaults(Hardware.Accelerator gpu, long kvCacheTokens)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        bool large = gpu.MemoryBytes >= 70L * (1L << 30) && !gpu.Name.Contains("a100", StringComparison.OrdinalIgnoreCase)
            && !gpu.Id.Contains("a100", StringComparison.OrdinalIgnoreCase);
        return new SchedulerOptions
        {
            KvCacheTokens = kvCacheTokens,
            MaxNumSeqs = large ? 1024 : 256,
            MaxNumBatchedTokens = large ? 8192 : 2048,
        };
    }

    /// <summary>Options with the KV pool of an engine estimate: its tokens, and its block size when it pages
    /// (vLLM, TensorRT-LLM), else vLLM's 16.</summary>
    public static SchedulerOptions FromCapacity(ServingCapacity capacity, BatchingPolicy policy = BatchingPolicy.Continuous)
    {
        ArgumentNullException.ThrowIfNull(capacity);
        if (capacity.EngineError is { } error)
            throw new InvalidSettingException("kv-tokens", $"the engine would not start: {error}");
        return new SchedulerOptions
        {
            Policy = policy,
            KvCacheTokens = capacity.KvCacheTokens,
            BlockSize = capacity.BlockSize is > 0 and var b ? b : 16,
        };
    }

    public void Validate()
    {
        if (BlockSize is < 1 or > 65536)
            throw new InvalidSettingException("block-size", $"must be between 1 and 65536, got {BlockSize}");
        if (KvCacheTokens < BlockSize)
            throw new InvalidSettingException("kv-tokens", $"the pool must hold at least one block ({BlockSize} tokens), got {KvCacheTokens}");
        if (MaxNumSeqs is < 1 or > 1_000_000)
            throw new InvalidSettingException("max-num-seqs", $"must be between 1 and 1,000,000, got {MaxNumSeqs}");
        if (MaxNumBatchedTokens < 1)
            throw new InvalidSettingException("max-num-batched-tokens", $"must be positive, got {MaxNumBatchedTokens}");
        if (Preemption == PreemptionMode.Swap && !(KvBytesPerToken > 0 && SwapGBps > 0))
            throw new InvalidSettingException("preemption", "swap needs the KV bytes per token and a positive swap bandwidth");
        if (!(SharedPrefixRatio >= 0 && SharedPrefixRatio <= 1))
            throw new InvalidSettingException("shared-prefix", $"must be between 0 and 1, got {SharedPrefixRatio}");
        if (!(BatchWindowSeconds >= 0))
            throw new InvalidSettingException("batch-window", "must not be negative");
    }
}
