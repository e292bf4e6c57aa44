using VramFit.Engines.Serving;

namespace VramFit.Tests.Engines.Serving;

public class TorchCachingAllocatorTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void A_large_tensor_keeps_a_tail_of_at_most_one_MiB_in_its_block()
    {
        // 35 MiB: a 36 MiB segment; the 1 MiB tail is not > kSmallSize, so the block stays whole
        var a = new TorchCachingAllocator();
        a.Allocate(35 * MiB);
        Assert.Equal(36 * MiB, a.AllocatedBytes);
        Assert.Equal(36 * MiB, a.ReservedBytes);
        Assert.Equal(35 * MiB, a.RequestedBytes);
    }

    [Fact]
    public void A_tail_above_one_MiB_is_split_off_and_serves_a_later_request()
    {
        // 24.5 MiB: 26 MiB segment, 1.5 MiB tail split off (allocated 24.5 MiB); a 1.2 MiB request then takes the
        // 1.5 MiB block whole (its 0.3 MiB remainder is not > 1 MiB) without a new segment
        var a = new TorchCachingAllocator();
        a.Allocate(24 * MiB + MiB / 2);
        Assert.Equal(24 * MiB + MiB / 2, a.AllocatedBytes);
        a.Allocate(MiB + MiB / 5);
        Assert.Equal(26 * MiB, a.AllocatedBytes);
        Assert.Equal(26 * MiB, a.ReservedBytes);
    }

    [Fact]
    public void Mid_size_requests_share_a_twenty_MiB_segment_best_fit()
    {
        // 5 MiB opens a 20 MiB segment (15 MiB left); 12 MiB fits that remainder (3 MiB left, split);
        // 2 MiB then fits the 3 MiB block whole (1 MiB remainder is not split)
        var a = new TorchCachingAllocator();
        a.Allocate(5 * MiB);
        a.Allocate(12 * MiB);
        a.Allocate(2 * MiB);
        Assert.Equal(20 * MiB, a.ReservedBytes);
        Assert.Equal(20 * MiB, a.AllocatedBytes);
    }

    [Fact]
    public void Small_requests_round_to_512_bytes_inside_two_MiB_segments()
    {
        var a = new TorchCachingAllocator();
        a.Allocate(1000);
        a.Allocate(7168);
        a.Allocate(1);
        Assert.Equal(1024 + 7168 + 512, a.AllocatedBytes);
        Assert.Equal(2 * MiB, a.ReservedBytes);
    }

    [Theory]
    [InlineData(512L, 2L << 20)]
    [InlineData(1L << 20, 2L << 20)]
    [InlineData((1L << 20) + 512, 20L << 20)]
    [InlineData(10L << 20, 10L << 20)]
    [InlineData((10L << 20) + 512, 12L << 20)]
    public void Segment_sizes_follow_get_allocation_size(long size, long segment) =>
        Assert.Equal(segment, TorchCachingAllocator.SegmentSize(size));
}
