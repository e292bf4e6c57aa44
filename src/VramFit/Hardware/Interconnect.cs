namespace VramFit.Hardware;

/// <summary>What a link connects: devices in one node, or nodes in a cluster.</summary>
public enum InterconnectScope
{
    /// <summary>Device to device or host to device inside a node (PCIe, NVLink, Infinity Fabric).</summary>
    IntraNode,

    /// <summary>Node to node (InfiniBand, Ethernet/RoCE).</summary>
    InterNode,
}

/// <summary>
/// A link type with its peak bandwidth, as the performance model needs it for tensor/pipeline-parallel
/// traffic. <see cref="BidirectionalGBps"/> is what datasheets print; collectives move data one way per
/// step, so <see cref="PerDirectionGBps"/> is what an all-reduce step sees.
/// </summary>
public sealed record Interconnect(string Name, InterconnectScope Scope, double BidirectionalGBps, string Source)
{
    /// <summary>Bandwidth in one direction (half the bidirectional figure), GB/s.</summary>
    public double PerDirectionGBps => BidirectionalGBps / 2;

    // PCIe: x16 link, 128b/130b encoding from Gen3 on; figures as NVIDIA datasheets print them
    // ("PCIe Gen4: 64 GB/s", "PCIe Gen5: 128 GB/s").
    public static readonly Interconnect Pcie3X16 = new("PCIe 3.0 x16", InterconnectScope.IntraNode, 32, "PCI-SIG PCIe 3.0: 8 GT/s x16 ≈ 16 GB/s each way (NVIDIA T4/V100 datasheets: 32 GB/s)");
    public static readonly Interconnect Pcie4X16 = new("PCIe 4.0 x16", InterconnectScope.IntraNode, 64, "PCI-SIG PCIe 4.0: 16 GT/s x16 ≈ 32 GB/s each way (NVIDIA A100 datasheet: 64 GB/s)");
    public static readonly Interconnect Pcie5X16 = new("PCIe 5.0 x16", InterconnectScope.IntraNode, 128, "PCI-SIG PCIe 5.0: 32 GT/s x16 ≈ 64 GB/s each way (NVIDIA H100 datasheet: 128 GB/s)");
    public static readonly Interconnect Pcie6X16 = new("PCIe 6.0 x16", InterconnectScope.IntraNode, 256, "PCI-SIG PCIe 6.0: 64 GT/s x16 ≈ 128 GB/s each way");
    public static readonly Interconnect NvLink2 = new("NVLink 2", InterconnectScope.IntraNode, 300, "NVIDIA Tesla V100 datasheet: NVLink 300 GB/s");
    public static readonly Interconnect NvLink3 = new("NVLink 3", InterconnectScope.IntraNode, 600, "NVIDIA A100 datasheet: NVLink 600 GB/s");
    public static readonly Interconnect NvLink4 = new("NVLink 4", InterconnectScope.IntraNode, 900, "NVIDIA H100 SXM datasheet: NVLink 900 GB/s");
    public static readonly Interconnect NvLink5 = new("NVLink 5", InterconnectScope.IntraNode, 1800, "NVIDIA HGX B200 specifications: NVLink 1.8 TB/s");
    public static readonly Interconnect InfinityFabricMi300 = new("Infinity Fabric (MI300X)", InterconnectScope.IntraNode, 896, "AMD Instinct MI300X datasheet: 7 links, 896 GB/s");
    // InfiniBand/Ethernet rates are per direction in Gb/s; bidirectional GB/s = 2 x rate / 8.
    public static readonly Interconnect InfiniBandHdr = new("InfiniBand HDR 200Gb/s", InterconnectScope.InterNode, 50, "NVIDIA ConnectX-6 datasheet: HDR 200 Gb/s per port");
    public static readonly Interconnect InfiniBandNdr = new("InfiniBand NDR 400Gb/s", InterconnectScope.InterNode, 100, "NVIDIA ConnectX-7 datasheet: NDR 400 Gb/s per port");
    public static readonly Interconnect InfiniBandXdr = new("InfiniBand XDR 800Gb/s", InterconnectScope.InterNode, 200, "NVIDIA ConnectX-8 SuperNIC datasheet: 800 Gb/s per port");
    public static readonly Interconnect Ethernet100G = new("Ethernet 100GbE", InterconnectScope.InterNode, 25, "IEEE 802.3 100GbE");
    public static readonly Interconnect Ethernet200G = new("Ethernet 200GbE", InterconnectScope.InterNode, 50, "IEEE 802.3 200GbE");
    public static readonly Interconnect Ethernet400G = new("Ethernet 400GbE", InterconnectScope.InterNode, 100, "IEEE 802.3 400GbE");

    /// <summary>Every well-known link, fastest last within each scope.</summary>
    public static IReadOnlyList<Interconnect> WellKnown { get; } =
    [
        Pcie3X16, Pcie4X16, Pcie5X16, Pcie6X16, NvLink2, NvLink3, NvLink4, NvLink5, InfinityFabricMi300,
        Ethernet100G, InfiniBandHdr, Ethernet200G, InfiniBandNdr, Ethernet400G, InfiniBandXdr,
    ];

    /// <summary>
    /// The host link of a PCIe device from NVML's generation and lane width (bidirectional GB/s, after
    /// 8b/10b encoding for Gen1/2 and 128b/130b from Gen3). Null for an unknown generation.
    /// </summary>
    public static Interconnect? FromPcie(int generation, int lanes)
    {
        double? gtPerSecond = generation switch { 1 => 2.5, 2 => 5, 3 => 8, 4 => 16, 5 => 32, 6 => 64, _ => null };
        if (gtPerSecond is null || lanes <= 0)
            return null;
        double efficiency = generation <= 2 ? 8.0 / 10 : 128.0 / 130;
        double perDirection = gtPerSecond.Value * lanes * efficiency / 8;
        return new Interconnect($"PCIe {generation}.0 x{lanes}", InterconnectScope.IntraNode, Math.Round(2 * perDirection, 1), "PCI-SIG base specification line rates");
    }
}
