using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Units;

namespace VramFit.Tests.Hardware;

public class AcceleratorCatalogTests
{
    [Fact]
    public void Catalog_loads_at_least_34_accelerators_with_unique_ids() 
    {
        Assert.True(AcceleratorCatalog.All.Count >= 34, $"only {AcceleratorCatalog.All.Count} accelerators");
        Assert.Equal(AcceleratorCatalog.All.Count, AcceleratorCatalog.All.Select(a => a.Id).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Every_entry_cites_a_source_and_has_positive_memory_and_bandwidth()
    {
        foreach (var a in AcceleratorCatalog.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(a.Source), $"{a.Id} has no source");
            Assert.True(a.MemoryBytes >= 8L << 30, $"{a.Id} memory {a.MemoryBytes}");
            Assert.True(a.MemoryBandwidthGBps > 0, $"{a.Id} has no bandwidth");
            Assert.True(a.Fp16Tflops >= 0 && a.Bf16Tflops >= 0 && a.Fp8Tflops >= 0 && a.Int8Tops >= 0 && a.Fp4Tflops >= 0, a.Id);
        }
    }

    [Fact]
    public void Lower_precisions_never_run_slower_than_higher_ones_where_supported()
    {
        // Tensor cores double their rate with each halving of operand width (dense); a catalog row breaking
        // that ordering is a typo.
        foreach (var a in AcceleratorCatalog.All)
        {
            if (a.Fp8Tflops > 0) Assert.True(a.Fp8Tflops >= a.Bf16Tflops, a.Id);
            if (a.Fp4Tflops > 0) Assert.True(a.Fp4Tflops >= a.Fp8Tflops, a.Id);
            if (a.Int8Tops > 0) Assert.True(a.Int8Tops >= a.Fp16Tflops, a.Id);
        }
    }

    [Fact]
    public void Nvidia_entries_carry_a_compute_capability_and_unified_memory_entries_a_working_set()
    {
        foreach (var a in AcceleratorCatalog.ByVendor(AcceleratorVendor.Nvidia))
            Assert.Matches(@"^\d+\.\d$", a.ComputeCapability ?? "");
        var apple = AcceleratorCatalog.ByVendor(AcceleratorVendor.Apple);
        Assert.NotEmpty(apple);
        foreach (var a in apple)
        {
            Assert.True(a.UnifiedMemory);
            Assert.True(a.GpuWorkingSetBytes < a.MemoryBytes, a.Id);
            Assert.Equal(a.GpuWorkingSetBytes, a.DefaultUsableBytes);
        }
    }

    [Theory]
    [InlineData("h100-sxm", "h100-sxm")]
    [InlineData("H100", "h100-sxm")]
    [InlineData("4090", "rtx-4090")]
    [InlineData("rtx4090", "rtx-4090")]
    [InlineData("RTX 4090", "rtx-4090")]
    [InlineData("NVIDIA GeForce RTX 4090", "rtx-4090")]
    [InlineData("geforce rtx 4090", "rtx-4090")]
    [InlineData("A100-80G", "a100-sxm4-80gb")]
    [InlineData("a100 80gb", "a100-sxm4-80gb")]
    [InlineData("NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb")]
    [InlineData("NVIDIA A100-PCIE-40GB", "a100-pcie-40gb")]
    [InlineData("Tesla T4", "t4")]
    [InlineData("NVIDIA H100 80GB HBM3", "h100-sxm")]
    [InlineData("mi300x", "mi300x")]
    [InlineData("AMD Instinct MI300X", "mi300x")]
    [InlineData("Instinct MI355X", "mi355x")]
    [InlineData("M3 Ultra", "m3-ultra-512gb")]
    [InlineData("gaudi3", "gaudi3")]
    [InlineData("Intel(R) Arc(TM) A770 Graphics", "arc-a770-16gb")]
    [InlineData("  L40S  ", "l40s")]
    public void Finds_by_id_alias_or_driver_name_ignoring_case_spaces_and_hyphens(string name, string id) =>
        Assert.Equal(id, AcceleratorCatalog.Find(name).Id);

    [Fact]
    public void Every_id_name_and_alias_finds_its_own_entry()
    {
        // Guards against two entries sharing a normalized alias, where one would silently shadow the other.
        foreach (var a in AcceleratorCatalog.All)
            foreach (var name in new[] { a.Id, a.Name }.Concat(a.Aliases))
                Assert.True(AcceleratorCatalog.TryFind(name) == a, $"'{name}' resolves to {AcceleratorCatalog.TryFind(name)?.Id} instead of {a.Id}");
    }

    [Fact]
    public void Unknown_names_throw_with_close_matches()
    {
        Assert.Null(AcceleratorCatalog.TryFind("h900"));
        var e = Assert.Throws<CatalogLookupException>(() => AcceleratorCatalog.Find("rtx 4095"));
        Assert.Contains("rtx-4090", e.Message, StringComparison.Ordinal);
        Assert.Contains("vramfit gpus", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("24GiB", 24L << 30, "custom-24GiB")]
    [InlineData("80GB", 80_000_000_000L, "custom-74.51GiB")]
    [InlineData("16384MiB", 16L << 30, "custom-16GiB")]
    [InlineData("12G", 12L << 30, "custom-12GiB")]
    public void Parse_turns_a_size_into_a_custom_device_with_unknown_throughput(string spec, long bytes, string id)
    {
        var a = AcceleratorCatalog.Parse(spec);
        Assert.Equal(bytes, a.MemoryBytes);
        Assert.Equal(id, a.Id);
        Assert.Equal(0, a.MemoryBandwidthGBps);
        Assert.Equal(0, a.Bf16Tflops);
        Assert.Equal(AcceleratorVendor.Other, a.Vendor);
    }

    [Fact]
    public void Parse_prefers_the_catalog_over_a_size() => Assert.Equal("rtx-4090", AcceleratorCatalog.Parse("4090").Id);

    [Fact]
    public void Parse_rejects_sizes_too_small_for_a_gpu_and_suggests_MiB()
    {
        var e = Assert.Throws<InvalidSettingException>(() => AcceleratorCatalog.Parse("16384"));
        Assert.Contains("16384MiB", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("warp-drive")]
    public void Parse_rejects_what_is_neither_a_name_nor_a_size(string spec) =>
        Assert.ThrowsAny<VramFitException>(() => AcceleratorCatalog.Parse(spec));

    [Fact]
    public void Catalog_memory_is_binary_as_the_driver_reports_it() =>
        // NVML reports an A100 80GB as 81920 MiB.
        Assert.Equal(81920L * ByteSize.MiB, AcceleratorCatalog.Find("a100-sxm4-80gb").MemoryBytes);

    [Theory]
    [InlineData("datasheet", "h100-sxm", 80, 3350, 989.5, 1979)]
    [InlineData("datasheet", "mi300x", 192, 5300, 1307.4, 2614.9)]
    [InlineData("whitepaper", "rtx-4090", 24, 1008, 165.2, 330.3)]
    [InlineData("datasheet", "l40s", 48, 864, 362.05, 733)]
    public void Headline_figures_match_the_vendor(string _, string id, int gib, double bandwidth, double bf16, double fp8)
    {
        var a = AcceleratorCatalog.Find(id);
        Assert.Equal((long)gib << 30, a.MemoryBytes);
        Assert.Equal(bandwidth, a.MemoryBandwidthGBps);
        Assert.Equal(bf16, a.Bf16Tflops);
        Assert.Equal(fp8, a.Fp8Tflops);
    }

    [Theory]
    [InlineData("NVIDIA", AcceleratorVendor.Nvidia)]
    [InlineData("amd", AcceleratorVendor.Amd)]
    public void Parses_vendor_names(string text, AcceleratorVendor vendor) => Assert.Equal(vendor, AcceleratorCatalog.ParseVendor(text));

    [Fact]
    public void Unified_memory_deployment_plans_with_the_working_set()
    {
        var mac = AcceleratorCatalog.Find("m2-ultra-192gb");
        Assert.Equal(144L << 30, new Deployment(mac).UsableBytesPerGpu);
        Assert.Equal(80L << 30, new Deployment(AcceleratorCatalog.Find("h100")).UsableBytesPerGpu);
    }
}
