using VramFit.Errors;
using VramFit.Units;

namespace VramFit.Tests.Units;

public class ByteSizeTests
{
    [Theory]
    [InlineData("24GiB", 24L << 30)]
    [InlineData("80GB", 80_000_000_000L)]
    [InlineData("16384", 16384L)]
    [InlineData("1.5 TiB", 3L << 39)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("24G", 24L << 30)]
    [InlineData("0", 0L)]
    public void Parses_binary_and_decimal_units(string text, long bytes) =>
        Assert.Equal(bytes, ByteSize.Parse(text).Bytes);

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-5GiB")]
    [InlineData("12 parsecs")]
    [InlineData("1e30")]
    public void Rejects_malformed_sizes_with_the_setting_name(string text)
    {
        var e = Assert.Throws<InvalidSettingException>(() => ByteSize.Parse(text, "gpu"));
        Assert.StartsWith("gpu:", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(300L * 1048576 + 786432, "300.75 MiB")]
    [InlineData(15L << 30, "15 GiB")]
    [InlineData(512L, "512 B")]
    public void Formats_with_binary_units(long bytes, string text) =>
        Assert.Equal(text, new ByteSize(bytes).ToString());

    [Theory]
    [InlineData("32k", 32768L)]
    [InlineData("128K", 131072L)]
    [InlineData("8192", 8192L)]
    [InlineData("1m", 1048576L)]
    public void Token_counts_accept_k_suffixes(string text, long tokens) =>
        Assert.Equal(tokens, TokenCount.Parse(text, "context"));

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("lots")]
    [InlineData("99999999999999999")]
    public void Token_counts_reject_bad_input(string text) =>
        Assert.Throws<InvalidSettingException>(() => TokenCount.Parse(text, "context"));
}
