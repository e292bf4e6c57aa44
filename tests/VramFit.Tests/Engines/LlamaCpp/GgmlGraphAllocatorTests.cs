using VramFit.Engines.LlamaCpp;
using VramFit.Numerics;

namespace VramFit.Tests.Engines.LlamaCpp;

/// <summary>
/// The ggml-alloc re-implementation on graphs small enough to follow by hand (alignment 32 B, f32 tensors of 16
/// elements = 64 B unless stated): where each tensor lands and how large the buffer gets.
/// </summary>
public sealed class GgmlGraphAllocatorTests
{
    private static readonly GgmlShape Small = new(GgmlType.F32, 16);      // 64 B
    private static readonly GgmlShape Large = new(GgmlType.F32, 32);      // 128 B

    private static (long Size, Dictionary<string, long> Offsets) Allocate(GgmlGraph g)
    {
        var offsets = new Dictionary<string, long>();
        var a = new GgmlGraphAllocator(32) { Trace = (t, at, _) => offsets[g.Name(t)] = at }.Allocate(g);
        return (a.BufferBytes, offsets);
    }

    [Fact]
    public void An_in_place_op_takes_over_its_only_consumers_parent()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", Small);
        int b = g.Op("b", Small, inplace: true, a);
        g.Op("c", Large, inplace: false, b);

        var (size, at) = Allocate(g);

        // a @0; b reuses a; c cannot fit anywhere but after them
        Assert.Equal(0, at["b"]);
        Assert.Equal(64, at["c"]);
        Assert.Equal(192, size);
    }

    [Fact]
    public void Without_in_place_the_freed_parent_leaves_a_hole_too_small_for_the_next_tensor()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", Small);
        int b = g.Op("b", Small, inplace: false, a);
        g.Op("c", Large, inplace: false, b);

        var (size, at) = Allocate(g);

        // a @0, b @64, a freed ([0, 64) free), c (128 B) goes to the end
        Assert.Equal(64, at["b"]);
        Assert.Equal(128, at["c"]);
        Assert.Equal(256, size);
    }

    [Fact]
    public void A_parent_with_another_consumer_is_not_overwritten()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", Small);
        int b = g.Op("b", Small, inplace: true, a);
        g.Op("d", Small, inplace: false, a, b);

        var (_, at) = Allocate(g);

        Assert.Equal(64, at["b"]);
    }

    [Fact]
    public void A_different_layout_blocks_in_place_reuse()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", new(GgmlType.F32, 4, 4));
        g.Op("b", new(GgmlType.F32, 16), inplace: true, a);

        var (_, at) = Allocate(g);

        Assert.Equal(64, at["b"]);
    }

    [Fact]
    public void The_smallest_free_block_that_fits_wins_over_the_first()
    {
        var g = new GgmlGraph();
        int a = g.Input("A", new(GgmlType.F32, 24));   // 96 B @0
        int b = g.Input("B", new(GgmlType.F32, 8));    // 32 B @96
        int c = g.Input("C", Small);                         // 64 B @128
        int d = g.Input("D", new(GgmlType.F32, 8));    // 32 B @192
        g.Op("n1", new(GgmlType.F32, 8), false, a, c); // 32 B @224; frees A and C
        g.Op("n2", Small, false, b, d);                      // free: [0, 96) and [128, 192)

        var (size, at) = Allocate(g);

        Assert.Equal(224, at["n1"]);
        Assert.Equal(128, at["n2"]);
        Assert.Equal(256, size);
    }

    [Fact]
    public void A_view_keeps_its_source_alive_until_the_views_consumer_ran()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", Small);
        int p = g.Op("p", Small, false, a);          // @64; a freed
        int x = g.View(p, Small);
        g.Op("y", Small, false, p);                  // into a's hole @0; p still viewed
        g.Op("z", Small, false, x);                  // p not free yet: to the end

        var (size, at) = Allocate(g);

        Assert.Equal(0, at["y"]);
        Assert.Equal(128, at["z"]);
        Assert.Equal(192, size);
    }

    [Fact]
    public void An_op_never_runs_in_place_on_a_view()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", Small);
        int p = g.Op("p", Small, false, a);          // @64
        int v = g.View(p, Small);
        g.Op("r", Small, inplace: true, v);          // a view is not the allocator's own tensor

        var (_, at) = Allocate(g);

        Assert.NotEqual(at["p"], at["r"]);
    }

    [Fact]
    public void Outputs_are_never_freed_nor_overwritten()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", Small);
        int o = g.Op("o", Small, false, a);           // @64
        g.MarkOutput(o);
        int b = g.Op("b", Small, inplace: true, o);   // may not overwrite the output: @0 (a's hole)
        g.Op("c", Small, false, b);

        var (size, at) = Allocate(g);

        Assert.Equal(0, at["b"]);
        Assert.Equal(128, at["c"]);
        Assert.Equal(192, size);
    }

    [Fact]
    public void Sizes_round_up_to_the_alignment_and_the_peak_is_explained()
    {
        var g = new GgmlGraph();
        int a = g.Input("a", new(GgmlType.I32, 3));    // 12 B → 32
        g.Op("b", new(GgmlType.F32, 9), false, a);     // 36 B → 64

        var allocation = new GgmlGraphAllocator(32).Allocate(g);

        Assert.Equal(96, allocation.BufferBytes);
        Assert.Equal("b", allocation.PeakNode);
        Assert.Equal(["a", "b"], allocation.LiveAtPeak.Select(t => t.Name));
    }
}
