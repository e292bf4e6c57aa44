using VramFit.Hardware;
using VramFit.Units;

namespace VramFit.Cli.Resolution;

/// <summary>Turns <c>--gpu</c> into an accelerator: a size ("24GiB", "80GB") for a custom device.</summary>
internal static class GpuArgument
{
    public const string Help = "GPU: a catalog name (see 'vramfit gpus') or a memory size such as 24GiB or 80GB";

    public static Accelerator? Resolve(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            return null;
        var size = ByteSize.Parse(spec, "gpu");
        return new Accelerator
        {
            Id = "custom-" + size.ToString().Replace(" ", "", StringComparison.Ordinal),
            Name = $"custom {size}",
            Vendor = AcceleratorVendor.Other,
            MemoryBytes = size.Bytes,
            MemoryBandwidthGBps = 0,
        };
    }
}
