using VramFit.Hardware;

namespace VramFit.Tests.Hardware;

public class InterconnectTests
{
    [Theory]
    [InlineData(3, 16, 31.5)]
    [InlineData(4, 16, 63.0)]
    [InlineData(5, 16, 126.0)]
    [InlineData(4, 8, 31.5)]
    [InlineData(2, 16, 16.0)]
    public void Pcie_bandwidth_follows_line_rate_and_encoding(int generation, int lanes, double bidirectional) =>
        Assert.Equal(bidirectional, Interconnect.FromPcie(generation, lanes)!.BidirectionalGBps, 1);

    [Fact]
    public void Unknown_pcie_generation_gives_no_link() => Assert.Null(Interconnect.FromPcie(9, 16));

    [Fact]
    public void Per_direction_is_half_of_the_datasheet_figure() => Assert.Equal(450, Interconnect.NvLink4.PerDirectionGBps);
}
