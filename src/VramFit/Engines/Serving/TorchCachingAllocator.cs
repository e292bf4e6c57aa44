namespace VramFit.Engines.Serving;

/// <summary>
/// PyTorch's CUDA caching allocator as it serves a sequence of allocations that stay alive (a model's
/// parameters as the loader creates them), following c10/cuda/CUDACachingAllocator.cpp (PyTorch 2.x):
/// sizes round up to 512 B; requests up to 1 MiB come from 2 MiB segments of the small pool, requests below
/// 10 MiB from 20 MiB segments and larger ones from a segment of their own rounded up to 2 MiB; the smallest
/// cached block that fits is reused (<c>get_free_block</c>), and a block is split only when the remainder is
/// at least 512 B (small pool) or more than 1 MiB (large pool, <c>should_split</c>). An unsplit block counts
/// whole in <c>torch.cuda.memory_allocated()</c>, which is how a 35 MiB weight occupies 36 MiB. A freed block
/// merges with free neighbours of its segment, and <see cref="EmptyCache"/> returns wholly free segments.
/// </summary>
public sealed class TorchCachingAllocator
{
    /// <summary><c>kMinBlockSize</c>: every size rounds up to a multiple of 512 bytes.</summary>
    public const long MinBlockSize = 512;

    /// <summary><c>kSmallSize</c>: the largest request served from the small pool.</summary>
    public const long SmallSize = 1L << 20;

    /// <summary><c>kSmallBuffer</c>: the segment small requests are packed in.</summary>
    public const long SmallBuffer = 2L << 20;

    /// <summary><c>kLargeBuffer</c>: the segment requests between 1 and 10 MiB are packed in.</summary>
    public const long LargeBuffer = 20L << 20;

    /// <summary><c>kMinLargeAlloc</c>: from this size a request gets a segment of its own.</summary>
    public const long MinLargeAlloc = 10L << 20;

    /// <summary><c>kRoundLarge</c>: a segment of its own is rounded up to 2 MiB.</summary>
    public const long RoundLarge = 2L << 20;

    private static readonly Comparer<Block> BySizeThenAddress = Comparer<Block>.Create((a, b) =>
        a.Size != b.Size ? a.Size.CompareTo(b.Size) : a.Address.CompareTo(b.Address));

    private readonly SortedSet<Block> smallFree = new(BySizeThenAddress);
    private readonly SortedSet<Block> largeFree = new(BySizeThenAddress);
    private long nextAddress;

    /// <summary>Bytes the live blocks occupy: <c>torch.cuda.memory_allocated()</c>.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Bytes of the segments taken from the driver: <c>torch.cuda.memory_reserved()</c>.</summary>
    public long ReservedBytes { get; private set; }

    /// <summary>Bytes the callers asked for and still hold.</summary>
    public long RequestedBytes { get; private set; }

    /// <summary>
    /// Serves one request of <paramref name="bytes"/>: the smallest cached block that fits, else a new segment;
    /// returns the block (null for an empty request) so the caller can free it.
    /// </summary>
    public Block? Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
            return null;
        long size = RoundSize(bytes);
        bool small = size <= SmallSize;
        var pool = small ? smallFree : largeFree;
        var block = pool.GetViewBetween(new Block(size, long.MinValue, small), new Block(long.MaxValue, long.MaxValue, small)).Min;
        if (block is not null)
        {
            pool.Remove(block);
        }
        else
        {
            long segment = SegmentSize(size);
            block = new Block(segment, nextAddress, small);
            nextAddress += segment;
            ReservedBytes += segment;
        }

        long remaining = block.Size - size;
        if (small ? remaining >= MinBlockSize : remaining > SmallSize)
        {
            // the tail becomes a free block of the same segment, linked to its neighbours
            var tail = new Block(remaining, block.Address + size, small) { Previous = block, Next = block.Next };
            if (block.Next is not null)
                block.Next.Previous = tail;
            block.Next = tail;
            block.Size = size;
            pool.Add(tail);
        }

        block.Requested = bytes;
        block.Allocated = true;
        AllocatedBytes += block.Size;
        RequestedBytes += bytes;
        return block;
    }

    /// <summary>Returns <paramref name="block"/> to its pool, merged with free neighbours of its segment (<c>free_block</c>).</summary>
    public void Free(Block? block)
    {
        if (block is null)
            return;
        if (!block.Allocated)
            throw new InvalidOperationException("block freed twice");
        block.Allocated = false;
        AllocatedBytes -= block.Size;
        RequestedBytes -= block.Requested;
        var pool = block.Small ? smallFree : largeFree;
        if (block.Previous is { Allocated: false } previous)
        {
            pool.Remove(previous);
            Absorb(previous, block);
            block = previous;
        }

        if (block.Next is { Allocated: false } next)
        {
            pool.Remove(next);
            Absorb(block, next);
        }

        pool.Add(block);
    }

    /// <summary><paramref name="left"/> takes in its free right-hand neighbour of the same segment (<c>try_merge_blocks</c>).</summary>
    private static void Absorb(Block left, Block right)
    {
        left.Size += right.Size;
        left.Next = right.Next;
        if (right.Next is not null)
            right.Next.Previous = left;
    }

    /// <summary>Gives every wholly free segment back to the driver (<c>torch.cuda.empty_cache()</c>).</summary>
    public void EmptyCache()
    {
        foreach (var pool in (ReadOnlySpan<SortedSet<Block>>)[smallFree, largeFree])
        {
            var whole = pool.Where(b => b.Previous is null && b.Next is null).ToList();
            foreach (var b in whole)
            {
                pool.Remove(b);
                ReservedBytes -= b.Size;
            }
        }
    }

    /// <summary>A block of a segment: its place, its size and whether a caller holds it.</summary>
    public sealed class Block(long size, long address, bool small)
    {
        public long Size { get; internal set; } = size;

        public long Address { get; } = address;

        internal bool Small { get; } = small;

        internal bool Allocated { get; set; }

        internal long Requested { get; set; }

        internal Block? Previous { get; set; }

        internal Block? Next { get; set; }
    }

    /// <summary><c>round_size</c> without <c>roundup_power2_divisions</c> (off by default).</summary>
    public static long RoundSize(long bytes) => bytes < MinBlockSize ? MinBlockSize : checked(bytes + MinBlockSize - 1) / MinBlockSize * MinBlockSize;

    /// <summary><c>get_allocation_size</c>: the segment a request that finds no cached block makes the allocator reserve.</summary>
    public static long SegmentSize(long size) =>
        size <= SmallSize ? SmallBuffer
        : size < MinLargeAlloc ? LargeBuffer
        : checked(size + RoundLarge - 1) / RoundLarge * RoundLarge;
}
