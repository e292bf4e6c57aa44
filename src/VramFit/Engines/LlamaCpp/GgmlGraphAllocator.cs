namespace VramFit.Engines.LlamaCpp;

/// <summary>One tensor alive in the compute buffer at the peak: where it sits and what it is.</summary>
internal readonly record struct GgmlLiveTensor(string Name, long Offset, long Bytes);

/// <summary>
/// The size ggml_gallocr reserves for a graph, and where it is reached: the node whose allocation set the buffer's
/// high-water mark and the tensors alive then.
/// </summary>
internal sealed record GgmlAllocation(long BufferBytes, string PeakNode, IReadOnlyList<GgmlLiveTensor> LiveAtPeak);

/// <summary>
/// A re-implementation of ggml_gallocr's measuring pass (ggml/src/ggml-alloc.c, llama.cpp b10221) for one buffer:
/// <list type="number">
/// <item>leafs that are graph inputs are allocated first, in graph order;</item>
/// <item>every tensor counts its consumers (n_children) and the view nodes of it (n_views);</item>
/// <item>nodes run in order: a node whose op may run in place takes over the memory of the first source that is
/// owned by the allocator, not an output, of the same layout and has no other consumer and no views left;
/// otherwise it gets the best-fitting free block (the smallest free block that fits, the later one on ties;
/// the end of the buffer only when none fits);</item>
/// <item>after a node ran, a source with no consumers left is freed (a view's source once its last view is done),
/// merging with adjacent free blocks.</item>
/// </list>
/// The buffer size is the highest end offset ever allocated (the allocator's max_size). Sizes are rounded up to the
/// buffer type's alignment (32 B for the CPU buffer type: TENSOR_ALIGNMENT in ggml-backend.cpp).
/// </summary>
internal sealed class GgmlGraphAllocator
{
    /// <summary>MAX_FREE_BLOCKS in ggml-alloc.c.</summary>
    private const int MaxFreeBlocks = 256;

    private readonly long alignment;
    private readonly long[] blockOffset = new long[MaxFreeBlocks];
    private readonly long[] blockSize = new long[MaxFreeBlocks];
    private int blocks;
    private long maxSize;
    private int[] children = [];
    private int[] views = [];
    private bool[] allocated = [];
    private long[] offset = [];

    public GgmlGraphAllocator(long alignment) => this.alignment = alignment;

    /// <summary>Receives every allocation (tensor, offset, bytes) of the measuring pass, for tests and debugging.</summary>
    public Action<int, long, long>? Trace { get; init; }

    /// <summary>Sizes the buffer for <paramref name="graph"/> and explains its peak.</summary>
    public GgmlAllocation Allocate(GgmlGraph graph)
    {
        int peakNode = Run(graph, stopAfter: int.MaxValue);
        long size = maxSize;
        Run(graph, stopAfter: peakNode);
        var live = new List<GgmlLiveTensor>();
        for (int t = 0; t < graph.TensorCount; t++)
            if (allocated[t])
                live.Add(new(graph.Name(t), offset[t], graph.Bytes(t)));
        live.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        string node = peakNode < 0 ? "graph inputs" : graph.Name(graph.Nodes[peakNode]);
        return new GgmlAllocation(size, node, live);
    }

    /// <summary>Runs the measuring pass up to node <paramref name="stopAfter"/>; returns the node that last raised the high-water mark (−1: the inputs).</summary>
    private int Run(GgmlGraph graph, int stopAfter)
    {
        int n = graph.TensorCount;
        if (children.Length < n)
        {
            children = new int[n];
            views = new int[n];
            allocated = new bool[n];
            offset = new long[n];
        }
        else
        {
            Array.Clear(children, 0, n);
            Array.Clear(views, 0, n);
            Array.Clear(allocated, 0, n);
            Array.Clear(offset, 0, n);
        }

        // one chunk whose last free block is the rest of the address space (ggml_dyn_tallocr_new_chunk: the buffer
        // type's max size, SIZE_MAX/2 for the CPU)
        blocks = 1;
        blockOffset[0] = 0;
        blockSize[0] = long.MaxValue / 2;
        maxSize = 0;
        int peak = -1;
        foreach (int leaf in graph.Leafs)
            AllocateTensor(graph, leaf);

        var nodes = graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            int node = nodes[i];
            int view = graph.ViewOf(node);
            if (view >= 0)
                views[view]++;
            for (int j = 0; j < GgmlGraph.MaxSources; j++)
            {
                int src = graph.Source(node, j);
                if (src >= 0)
                    children[src]++;
            }
        }

        for (int i = 0; i < nodes.Count && i <= stopAfter; i++)
        {
            int node = nodes[i];
            long before = maxSize;
            AllocateTensor(graph, node);
            if (maxSize > before)
                peak = i;
            if (i == stopAfter)
                break;
            for (int j = 0; j < GgmlGraph.MaxSources; j++)
            {
                int parent = graph.Source(node, j);
                if (parent < 0)
                    continue;
                children[parent]--;
                if (children[parent] != 0 || views[parent] != 0)
                    continue;
                int viewSrc = graph.ViewOf(parent);
                if (viewSrc >= 0)
                {
                    views[viewSrc]--;
                    if (views[viewSrc] == 0 && children[viewSrc] == 0 && allocated[viewSrc])
                        FreeTensor(graph, viewSrc);
                }
                else if (allocated[parent])
                {
                    FreeTensor(graph, parent);
                }
            }
        }

        return peak;
    }

    /// <summary>ggml_gallocr_allocate_node.</summary>
    private void AllocateTensor(GgmlGraph graph, int t)
    {
        if (allocated[t] || graph.IsExternal(t) || graph.ViewOf(t) >= 0)
            return;
        allocated[t] = true;
        if (graph.CanRunInPlace(t))
        {
            for (int j = 0; j < GgmlGraph.MaxSources; j++)
            {
                int parent = graph.Source(t, j);
                // a view is never the allocator's own tensor, so in-place reuse through a view never happens
                if (parent < 0 || graph.ViewOf(parent) >= 0 || !allocated[parent] || graph.IsOutput(parent)
                    || graph.Shape(parent) != graph.Shape(t))
                    continue;
                if (children[parent] == 1 && views[parent] == 0)
                {
                    offset[t] = offset[parent];
                    allocated[parent] = false;
                    Trace?.Invoke(t, offset[t], -graph.Bytes(t));
                    return;
                }
            }
        }

        offset[t] = AllocateBytes(graph.Bytes(t));
        Trace?.Invoke(t, offset[t], graph.Bytes(t));
    }

    /// <summary>ggml_gallocr_free_node: outputs are never freed.</summary>
    private void FreeTensor(GgmlGraph graph, int t)
    {
        if (graph.IsOutput(t))
            return;
        FreeBytes(offset[t], graph.Bytes(t));
        allocated[t] = false;
    }

    private long Align(long size) => (size + alignment - 1) / alignment * alignment;

    /// <summary>ggml_dyn_tallocr_alloc for a single chunk.</summary>
    private long AllocateBytes(long size)
    {
        size = Align(size);
        int best = -1;
        long bestSize = long.MaxValue;
        // the best fitting free block besides the last one; "<=" keeps the later of equal blocks
        for (int i = 0; i < blocks - 1; i++)
            if (blockSize[i] >= size && blockSize[i] <= bestSize)
            {
                best = i;
                bestSize = blockSize[i];
            }

        if (best < 0)
            best = blocks - 1;
        long at = blockOffset[best];
        blockOffset[best] += size;
        blockSize[best] -= size;
        if (blockSize[best] == 0)
            RemoveBlock(best);
        maxSize = Math.Max(maxSize, at + size);
        return at;
    }

    /// <summary>ggml_dyn_tallocr_free_bytes: merge with the block ending here or starting right after, else insert sorted.</summary>
    private void FreeBytes(long at, long size)
    {
        size = Align(size);
        for (int i = 0; i < blocks; i++)
        {
            if (blockOffset[i] + blockSize[i] == at)
            {
                blockSize[i] += size;
                if (i < blocks - 1 && blockOffset[i] + blockSize[i] == blockOffset[i + 1])
                {
                    blockSize[i] += blockSize[i + 1];
                    RemoveBlock(i + 1);
                }

                return;
            }

            if (at + size == blockOffset[i])
            {
                blockOffset[i] = at;
                blockSize[i] += size;
                if (i > 0 && blockOffset[i - 1] + blockSize[i - 1] == blockOffset[i])
                {
                    blockSize[i - 1] += blockSize[i];
                    RemoveBlock(i);
                }

                return;
            }
        }

        if (blocks == MaxFreeBlocks)
            throw new InvalidOperationException("ggml-alloc: out of free blocks");
        int pos = 0;
        while (pos < blocks && blockOffset[pos] < at)
            pos++;
        for (int i = blocks; i > pos; i--)
        {
            blockOffset[i] = blockOffset[i - 1];
            blockSize[i] = blockSize[i - 1];
        }

        blockOffset[pos] = at;
        blockSize[pos] = size;
        blocks++;
    }

    private void RemoveBlock(int idx)
    {
        for (int i = idx; i < blocks - 1; i++)
        {
            blockOffset[i] = blockOffset[i + 1];
            blockSize[i] = blockSize[i + 1];
        }

        blocks--;
    }
}
