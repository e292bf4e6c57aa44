using System.Globalization;
using VramFit.Engines.Serving;
using VramFit.Errors;

namespace VramFit.Engines.Vllm;

/// <summary>One KV cache group of the V1 hybrid allocator: layers of one kind sharing a block table.</summary>
public sealed record VllmKvGroup(KvLayerKind Kind, int Layers, int BlockSize, long PageBytes, int SlidingWindow);

/// <summary>
/// How vLLM pages a rank's KV memory: groups, blocks, the token capacity it logs ("GPU KV cache size:
/// N tokens"), the maximum concurrency at max_model_len, and the startup check with its suggested length.
/// </summary>
public sealed record VllmKvPlan
{
    public required IReadOnlyList<VllmKvGroup> Groups { get; init; }

    /// <summary>Layers per group (tensors per block); the whole stage when the cache is uniform.</summary>
    public required int GroupSize { get; init; }

    public required long NumBlocks { get; init; }

    public required long Tokens { get; init; }

    public required double MaxConcurrency { get; init; }

    /// <summary>KV bytes one request of max_model_len needs on this rank (the startup check).</summary>
    public required long BytesPerMaxLenRequest { get; init; }

    /// <summary>Longest max_model_len whose single request fits the available memory.</summary>
    public required long EstimatedMaxModelLen { get; init; }

    /// <summary>The ValueError vLLM raises at startup, or null when the configuration starts.</summary>
    public string? Error { get; init; }

    /// <summary>Bytes of the allocated KV tensors (blocks × page × group size).</summary>
    public long AllocatedBytes => Groups.Count == 0 ? 0 : NumBlocks * Groups[0].PageBytes * GroupSize;

    /// <summary>
    /// Plans the cache of one rank. V1 (vllm/v1/core/kv_cache_utils.py): layers are grouped by spec,
    /// page sizes are unified, num_blocks = available // (page × group_size), tokens = num_blocks //
    /// groups × block_size, concurrency = num_blocks / Σ_groups blocks one max_model_len request needs.
    /// V0 (vllm/worker/cache_engine.py): one block spans every layer, num_blocks = available //
    /// (block_size × Σ per-token bytes), concurrency = blocks × block_size / max_model_len.
    /// </summary>
    public static VllmKvPlan Plan(IReadOnlyList<KvLayerSpec> layers, long availableBytes, int blockSize, long maxModelLen,
        long maxNumBatchedTokens, bool v1, long? numBlocksOverride = null)
    {
        if (layers.Count == 0)
            return new VllmKvPlan { Groups = [], GroupSize = 0, NumBlocks = 0, Tokens = 0, MaxConcurrency = double.PositiveInfinity, BytesPerMaxLenRequest = 0, EstimatedMaxModelLen = maxModelLen };
        return v1
            ? PlanV1(layers, availableBytes, blockSize, maxModelLen, maxNumBatchedTokens, numBlocksOverride)
            : PlanV0(layers, availableBytes, blockSize, maxModelLen, numBlocksOverride);
    }

    private static VllmKvPlan PlanV0(IReadOnlyList<KvLayerSpec> layers, long available, int blockSize, long maxModelLen, long? overrideBlocks)
    {
        long perToken = 0;
        foreach (var l in layers)
            perToken += l.BytesPerToken;
        if (perToken == 0)
            throw new UnsupportedArchitectureException("recurrent-only model under the vLLM V0 paged cache", ["vLLM V1"]);
        long blockBytes = perToken * blockSize;
        long blocks = Math.Max(0, available) / blockBytes;
        if (overrideBlocks is { } o)
            blocks = o;
        long tokens = blocks * blockSize;
        string? error = blocks <= 0
            // vllm/worker/worker.py raise_if_cache_size_invalid
            ? "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine."
            : tokens < maxModelLen
                ? $"The model's max seq len ({maxModelLen}) is larger than the maximum number of tokens that can be stored in KV cache ({tokens}). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."
                : null;
        return new VllmKvPlan
        {
            Groups = [new VllmKvGroup(KvLayerKind.FullAttention, layers.Count, blockSize, blockBytes / layers.Count, 0)],
            GroupSize = layers.Count,
            NumBlocks = blocks,
            Tokens = tokens,
            MaxConcurrency = (double)tokens / maxModelLen,
            BytesPerMaxLenRequest = CeilDiv(maxModelLen, blockSize) * blockBytes,
            EstimatedMaxModelLen = tokens,
            Error = error,
        };
    }

    private static VllmKvPlan PlanV1(IReadOnlyList<KvLayerSpec> layers, long available, int blockSize, long maxModelLen, long batched, long? overrideBlocks)
    {
        var groups = BuildGroups(layers, blockSize, maxModelLen, out int groupSize);
        long page = groups[0].PageBytes;
        long blocks = available <= 0 ? 0 : available / page / groupSize;
        if (overrideBlocks is { } o)
            blocks = o;
        int minBlock = groups.Min(g => g.BlockSize);
        long tokens = blocks / groups.Count * minBlock;

        long blocksPerRequest = 0;
        foreach (var g in groups)
            blocksPerRequest += BlocksPerRequest(g, maxModelLen, batched);
        double concurrency = blocksPerRequest == 0 ? double.PositiveInfinity : (double)blocks / blocksPerRequest;

        long needed = NeededBytes(layers, groups, maxModelLen, batched);
        long estimated = needed <= available ? maxModelLen : EstimateMaxLen(layers, groups, available, maxModelLen, batched);
        string? error = null;
        if (available <= 0)
            error = "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.";
        else if (needed > available)
        {
            // vllm/v1/core/kv_cache_utils.py check_enough_kv_cache_memory
            var hint = estimated > 0 ? $" Based on the available memory, the estimated maximum model length is {estimated}." : "";
            error = string.Create(CultureInfo.InvariantCulture,
                $"To serve at least one request with the models's max seq len ({maxModelLen}), ({needed / Gib:0.00} GiB KV cache is needed, which is larger than the available KV cache memory ({available / Gib:0.00} GiB).{hint} Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.");
        }

        return new VllmKvPlan
        {
            Groups = groups,
            GroupSize = groupSize,
            NumBlocks = blocks,
            Tokens = tokens,
            MaxConcurrency = concurrency,
            BytesPerMaxLenRequest = needed,
            EstimatedMaxModelLen = estimated,
            Error = error,
        };
    }

    private const double Gib = 1L << 30;

    /// <summary>
    /// V1 grouping (kv_cache_utils.py <c>_get_kv_cache_groups_uniform_page_size</c>): layers with the same spec
    /// form a type; group_size = fewest layers of any type (or the most, when that is under 1.25 × the fewest);
    /// each type is cut into groups of group_size. Page sizes must match: attention blocks grow to cover the
    /// largest page (hybrid Mamba models: attention block = 16 × cdiv(mamba page, 16 × attention bytes/token),
    /// vllm/model_executor/models/config.py HybridAttentionMambaModelConfig), and the Mamba state is padded.
    /// </summary>
    private static List<VllmKvGroup> BuildGroups(IReadOnlyList<KvLayerSpec> layers, int blockSize, long maxModelLen, out int groupSize)
    {
        var types = new List<(KvLayerKind Kind, long PerToken, int Window, long State, int Count)>();
        foreach (var l in layers)
        {
            int i = types.FindIndex(t => t.Kind == l.Kind && t.PerToken == l.BytesPerToken && t.Window == l.SlidingWindow && t.State == l.StateBytes);
            if (i < 0)
                types.Add((l.Kind, l.BytesPerToken, l.SlidingWindow, l.StateBytes, 1));
            else
                types[i] = types[i] with { Count = types[i].Count + 1 };
        }

        long maxState = types.Where(t => t.Kind == KvLayerKind.RecurrentState).Select(t => t.State).DefaultIfEmpty(0).Max();
        // a Mamba group's one block per request stands for the whole sequence: vLLM sets its block_size to
        // max_model_len (config.py HybridAttentionMambaModelConfig), so token counts follow the attention blocks
        int mambaBlock = (int)Math.Min(int.MaxValue, maxModelLen);
        var blockSizes = types.Select(t => t.Kind == KvLayerKind.RecurrentState ? mambaBlock : blockSize).ToArray();
        if (maxState > 0)
        {
            long perToken = types.Where(t => t.Kind != KvLayerKind.RecurrentState).Select(t => t.PerToken).DefaultIfEmpty(0).Max();
            if (perToken > 0)
            {
                int attnBlock = (int)(16 * CeilDiv(maxState, 16 * perToken));
                blockSize = Math.Max(blockSize, attnBlock);
                for (int i = 0; i < types.Count; i++)
                    if (types[i].Kind != KvLayerKind.RecurrentState)
                        blockSizes[i] = blockSize;
            }
        }

        long page = 0;
        for (int i = 0; i < types.Count; i++)
            page = Math.Max(page, types[i].Kind == KvLayerKind.RecurrentState ? types[i].State : types[i].PerToken * blockSizes[i]);
        for (int i = 0; i < types.Count; i++)
        {
            if (types[i].Kind == KvLayerKind.RecurrentState)
                continue;
            long own = types[i].PerToken * blockSizes[i];
            if (page % own != 0)
                throw new UnsupportedArchitectureException($"layers with KV page sizes {own} and {page} B (not a multiple)", ["uniform page sizes"]);
            // kv_cache_utils.py unify_kv_cache_spec_page_size: a smaller page becomes a larger block
            blockSizes[i] = (int)(blockSizes[i] * (page / own));
        }

        int fewest = types.Min(t => t.Count), most = types.Max(t => t.Count);
        groupSize = types.Count == 1 ? most : most < fewest * 1.25 ? most : fewest;
        var groups = new List<VllmKvGroup>();
        for (int i = 0; i < types.Count; i++)
            for (int n = 0; n < types[i].Count; n += groupSize)
                groups.Add(new VllmKvGroup(types[i].Kind, Math.Min(groupSize, types[i].Count - n), blockSizes[i], page, types[i].Window));
        return groups;
    }

    /// <summary>
    /// Blocks one request of max_model_len holds in a group (kv_cache_interface.py max_memory_usage_bytes):
    /// full attention / MLA cdiv(len, block); sliding window cdiv(min(window − 1 + max_num_batched_tokens, len), block) + 1;
    /// Mamba state one block.
    /// </summary>
    private static long BlocksPerRequest(VllmKvGroup g, long maxModelLen, long batched) => g.Kind switch
    {
        KvLayerKind.SlidingWindow => CeilDiv(Math.Min(g.SlidingWindow - 1 + batched, maxModelLen), g.BlockSize) + 1,
        KvLayerKind.RecurrentState => 1,
        _ => CeilDiv(maxModelLen, g.BlockSize),
    };

    private static long NeededBytes(IReadOnlyList<KvLayerSpec> layers, List<VllmKvGroup> groups, long len, long batched)
    {
        long page = groups[0].PageBytes;
        long total = 0;
        foreach (var l in layers)
        {
            var g = groups.First(x => x.Kind == l.Kind && (l.Kind != KvLayerKind.SlidingWindow || x.SlidingWindow == l.SlidingWindow));
            total += BlocksPerRequest(g, len, batched) * page;
        }

        return total;
    }

    /// <summary>Binary search for the longest length whose request fits (kv_cache_utils.py estimate_max_model_len).</summary>
    private static long EstimateMaxLen(IReadOnlyList<KvLayerSpec> layers, List<VllmKvGroup> groups, long available, long maxModelLen, long batched)
    {
        long lo = 0, hi = maxModelLen;
        while (lo < hi)
        {
            long mid = lo + (hi - lo + 1) / 2;
            if (NeededBytes(layers, groups, mid, batched) <= available)
                lo = mid;
            else
                hi = mid - 1;
        }

        return lo;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
