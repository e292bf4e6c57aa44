using VramFit.Units;

namespace VramFit.Hardware;

/// <summary>Resolves what users type for a GPU: a memory size ("24GiB", "80GB") for a custom device.</summary>
public static class GpuLookup
{
    public const string Help = "GPU: a catalog name (see 'vramfit gpus') or a memory size such as 24GiB or 80GB";

    /// <summary>A device of unknown size: estimates print without a verdict.</summary>
    public static Accelerator Unknown { get; } = new()
    {
        Id = "unknown",
        Name = "GPU of unknown size (give --gpu)",
        Vendor = AcceleratorVendor.Other,
        MemoryBytes = 0,
        MemoryBandwidthGBps = 0,
    };

    public static Accelerator Resolve(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            return Unknown;
        var size = ByteSize.Parse(spec, "gpu");
        if (size.Bytes <= 0)
            throw new Errors.InvalidSettingException("gpu", $"'{spec}' is not a positive size");
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
