using VramFit.Errors;
using VramFit.Hardware.Detection;
using static VramFit.Tests.Hardware.Detection.FakeGpuProbe;

namespace VramFit.Tests.Hardware.Detection;

public class GpuDetectorTests
{
    [Fact]
    public void Detected_devices_are_matched_to_the_catalog_by_driver_name()
    {
        using var probe = new FakeGpuProbe(Snapshot(
            Gpu(0, "NVIDIA A100-SXM4-80GB", 81920, 1024, (4242, 1000)),
            Gpu(1, "NVIDIA GeForce RTX 4090", 24564, 300)));
        var detection = GpuDetector.Detect(probe);
        Assert.True(detection.Found);
        Assert.Null(detection.Explanation);
        Assert.Equal("a100-sxm4-80gb", detection.Gpus[0].CatalogMatch!.Id);
        Assert.Equal("rtx-4090", detection.Gpus[1].CatalogMatch!.Id);
        Assert.Equal(1000L << 20, detection.Gpus[0].Processes.Single().UsedBytes);
    }

    [Fact]
    public void Planning_accelerator_keeps_catalog_throughput_but_the_detected_capacity()
    {
        // The driver reserves some memory: an RTX 4090 reports 24564 MiB, not 24 GiB.
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "NVIDIA GeForce RTX 4090", 24564, 300)));
        var gpu = GpuDetector.Detect(probe).Gpus[0];
        Assert.Equal(24564L << 20, gpu.Accelerator.MemoryBytes);
        Assert.Equal(1008, gpu.Accelerator.MemoryBandwidthGBps);
        Assert.Equal("rtx-4090", gpu.Accelerator.Id);
    }

    [Fact]
    public void Among_parts_sharing_a_driver_name_the_closest_capacity_wins()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "NVIDIA GeForce RTX 4060 Ti", 16380, 0)));
        Assert.Equal("rtx-4060-ti-16gb", GpuDetector.Detect(probe).Gpus[0].CatalogMatch!.Id);
    }

    [Fact]
    public void Unknown_parts_become_custom_devices_of_their_detected_size()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "NVIDIA Future X9000", 65536, 0)));
        var gpu = GpuDetector.Detect(probe).Gpus[0];
        Assert.Null(gpu.CatalogMatch);
        Assert.Equal(64L << 30, gpu.Accelerator.MemoryBytes);
        Assert.Equal("NVIDIA Future X9000", gpu.Accelerator.Name);
        Assert.Equal(0, gpu.Accelerator.MemoryBandwidthGBps);
    }

    [Fact]
    public void Deployment_uses_the_smallest_free_memory_so_other_users_of_a_card_count()
    {
        using var probe = new FakeGpuProbe(Snapshot(
            Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 559),
            Gpu(1, "NVIDIA H100 80GB HBM3", 81559, 20559, (777, 20000))));
        var deployment = GpuDetector.Detect(probe).ToDeployment();
        Assert.Equal(2, deployment.GpuCount);
        Assert.Equal(61000L << 20, deployment.UsableBytesPerGpu);
        Assert.Equal("h100-sxm", deployment.Gpu.Id);
    }

    [Fact]
    public void Deployment_can_take_the_first_n_devices_but_not_more_than_exist()
    {
        using var probe = new FakeGpuProbe(Snapshot(Gpu(0, "Tesla T4", 15360, 0), Gpu(1, "Tesla T4", 15360, 5000)));
        var detection = GpuDetector.Detect(probe);
        Assert.Equal(15360L << 20, detection.ToDeployment(1).UsableBytesPerGpu);
        Assert.Throws<InvalidSettingException>(() => detection.ToDeployment(3));
    }

    [Fact]
    public void Without_a_driver_detection_explains_and_deployment_refuses()
    {
        using var probe = Unavailable();
        var detection = GpuDetector.Detect(probe);
        Assert.False(detection.Found);
        Assert.Contains("libnvidia-ml.so.1 not found", detection.Explanation, StringComparison.Ordinal);
        Assert.Contains("catalog", detection.Explanation, StringComparison.Ordinal);
        var e = Assert.Throws<InvalidSettingException>(() => detection.ToDeployment());
        Assert.Contains("no GPU detected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_driver_with_no_device_is_explained_too()
    {
        using var probe = new FakeGpuProbe(Snapshot());
        Assert.Equal("fake is running but reports no GPU", GpuDetector.Detect(probe).Explanation);
    }

    [Fact]
    public void Memory_held_by_others_excludes_the_given_processes()
    {
        var gpu = Gpu(0, "Tesla T4", 15360, 3000, (1, 1000), (2, 2000), (3, null));
        Assert.Equal(2000L << 20, gpu.BytesUsedByOthers(new HashSet<int> { 1 }));
    }
}
