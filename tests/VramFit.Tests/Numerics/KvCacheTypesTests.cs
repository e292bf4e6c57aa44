using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Tests.Numerics;

public class KvCacheTypesTests
{
    [Theory]
    [InlineData(null, 16)]
    [InlineData("auto", 16)]
    [InlineData("fp8", 8)]
    [InlineData("fp8_e5m2", 8)]
    [InlineData("f16", 16)]
    [InlineData("q8_0", 8.5)]      // 34 bytes per 32 elements
    [InlineData("q4_0", 4.5)]      // 18 bytes per 32 elements
    [InlineData("int4", 4)]
    [InlineData("int2", 2)]
    public void Bits_per_cached_element(string? name, double bits) =>
        Assert.Equal(bits, KvCacheTypes.Bits(name, ScalarType.BF16));

    [Theory]
    [InlineData("q8_0", ScalarType.I8)]
    [InlineData("fp8", ScalarType.F8E4M3)]
    [InlineData("q4_0", ScalarType.Int4)]
    [InlineData(null, ScalarType.BF16)]
    public void Dense_stand_in_has_the_same_bytes(string? name, ScalarType type) =>
        Assert.Equal(type, KvCacheTypes.ScalarOf(name, ScalarType.BF16));

    [Fact]
    public void Unknown_names_are_refused() =>
        Assert.Throws<InvalidSettingException>(() => KvCacheTypes.Bits("fp7", ScalarType.BF16));
}
