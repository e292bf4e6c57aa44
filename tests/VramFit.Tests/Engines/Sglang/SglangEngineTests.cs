using VramFit.Engines;
using VramFit.Engines.Serving;
using VramFit.Engines.Sglang;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.Sglang;

public class SglangEngineTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long GiB = 1L << 30;
    private static readonly SglangEngine Engine = new();

    private static long Overhead(int tp, Accelerator gpu) => SglangEngine.InitOverheadBytes(tp, gpu);

    [Fact]
    public void Init_overhead_drops_the_custom_all_reduce_beyond_two_PCIe_GPUs()
    {
        var pcie = ServingFixtures.Gpu("24GB PCIe GPU", 24576, "PCIe 4.0 x16", "8.6");
        long context = CommunicationBuffers.CudaContextBytes(pcie);
        Assert.Equal(context, SglangEngine.InitOverheadBytes(1, pcie));
        Assert.Equal(context + CommunicationBuffers.NcclBytes(2, pcie) + CommunicationBuffers.CustomAllReduceBytes, SglangEngine.InitOverheadBytes(2, pcie));
        Assert.Equal(context + CommunicationBuffers.NcclBytes(4, pcie), SglangEngine.InitOverheadBytes(4, pcie));
        Assert.Equal(CommunicationBuffers.CudaContextBytes(ServingFixtures.H100) + CommunicationBuffers.NcclBytes(4, ServingFixtures.H100) + CommunicationBuffers.CustomAllReduceBytes, SglangEngine.InitOverheadBytes(4, ServingFixtures.H100));
    }

    [Theory]
    [InlineData(1, 0.88)]
    [InlineData(2, 0.87)]
    [InlineData(4, 0.85)]
    [InlineData(8, 0.81)]
    [InlineData(16, 0.79)]
    public void Default_mem_fraction_static_follows_tp(int tp, double fraction) =>
        Assert.Equal(fraction, SglangDefaults.MemFractionByTp(tp));

    [Theory]
    // before PR #7054: by TP size
    [InlineData("0.4.3", 81152, 1, null, 0.88)]
    [InlineData("0.4.3", 81152, 4, null, 0.85)]
    // PR #7054: (81152 − (9.5 + 1/2) GiB) / 81152 on an 80 GB card; (24564 − (2.8 + 2/10) GiB) / 24564 at TP 2 on a 4090
    [InlineData("0.4.9", 81152, 1, null, 0.874)]
    [InlineData("0.4.9", 24564, 2, null, 0.875)]
    // PR #10975: 512 + 1.5 × 8192 + 2 × 256 + 1024/8 = 13440 MiB reserved on an H100
    [InlineData("0.5.4", 81152, 1, false, 0.834)]
    // with piecewise graphs (74 sizes up to 8192 tokens × 8 MiB): 14032 MiB; nvidia-smi's 81559 MiB H100 gives
    // the 0.828 reported for Qwen3-32B in sglang issue #29092
    [InlineData(null, 81559, 1, null, 0.828)]
    // a 4090: chunk 2048, 24 graphs, 42 piecewise sizes: 512 + 3072 + 48 + 128 + 336 = 4096 MiB
    [InlineData(null, 24564, 1, true, 0.833)]
    public void Default_mem_fraction_static_follows_the_release(string? version, long gpuMemMiB, int tp, bool? piecewise, double fraction) =>
        Assert.Equal(fraction, SglangDefaults.MemFraction(SglangVersion.Parse(version), gpuMemMiB, tp, 1, null, null, piecewise, mla: false));

    [Fact]
    public void Without_chunked_prefill_the_reserve_follows_max_prefill_tokens()
    {
        // 512 + 1.5 × 16384 + 2 × 256 + 128 = 25728 MiB on an 80 GB card
        Assert.Equal(0.683, SglangDefaults.MemFraction(SglangVersion.Parse("0.5.4"), 81152, 1, 1, -1, null, false, mla: false));
        Assert.Equal(0.834, SglangDefaults.MemFraction(SglangVersion.Parse("0.5.4"), 81152, 1, 1, null, null, false, mla: false));
    }

    [Fact]
    public void An_unreadable_version_is_a_setting_error() =>
        Assert.Throws<VramFit.Errors.InvalidSettingException>(() => SglangVersion.Parse("99999999999.1"));

    [Fact]
    public void The_release_default_reaches_the_pool()
    {
        var gpu = ServingFixtures.H100;
        long Tokens(string version) => Engine.Estimate(new EstimateRequest(ServingFixtures.Llama31_8B(), new Deployment(gpu), new Workload(),
            new EngineSettings([new("context_length", "8192"), new("engine_version", version)]))).Capacity!.KvCacheTokens;
        // 0.88 of the card before PR #7054, 0.834 after PR #10975
        Assert.True(Tokens("0.4.3") > Tokens("0.5.4"));
        var r = Engine.Estimate(new EstimateRequest(ServingFixtures.Llama31_8B(), new Deployment(gpu), new Workload(),
            new EngineSettings([new("context_length", "8192"), new("engine_version", "0.5.4")])));
        Assert.Contains("--mem-fraction-static 0.834", r.LaunchCommand, StringComparison.Ordinal);
    }

    [Fact]
    public void Pool_by_hand_for_Llama_3_1_8B()
    {
        // before = 70 GiB free after context; rest = after − before × (1 − 0.88). Loading takes the segments behind
        // the tensors (16,060,522,496 B, every matrix a whole number of 2 MiB) with the 65 norms (8 KiB each) in one
        // 2 MiB small-pool segment, the 32 MiB rotary table (131072 × 128 × bf16), and 16 MiB left free in the
        // 64 MiB segment of its fp32 temporary, which layer 1's 48 MiB qkv_proj reuses.
        var gpu = ServingFixtures.H100;
        long before = 70 * GiB;
        var r = Engine.Estimate(new EstimateRequest(ServingFixtures.Llama31_8B(), new Deployment(gpu, 1, freeBytesPerGpu: before + Overhead(1, gpu)),
            new Workload(), new EngineSettings([new("context_length", "8192"), new("engine_version", "0.4.3")])));
        long loaded = 16_060_522_496L - 65 * 8192 + (2L << 20) + (32L << 20) + (16L << 20);
        Assert.Equal(Math.Round(loaded / (double)GiB, 2), r.PrintedFigures["weights_gib"]);
        long rest = before - loaded - (long)(before * (1 - 0.88));
        long cell = 8L * 128 * 32 * 2 * 2;                       // kv heads × head_dim × layers × (K, V) × 2 B
        Assert.Equal(rest / cell, r.Capacity!.KvCacheTokens);
        Assert.Equal(Math.Round((rest / cell + 1) * cell / 2.0 / GiB, 2), r.PrintedFigures["k_gib"]);
        Assert.StartsWith("python -m sglang.launch_server --model-path meta-llama/Llama-3.1-8B --mem-fraction-static 0.88", r.LaunchCommand);
    }

    [Fact]
    public void MLA_cells_hold_the_latent_once_per_layer_at_any_TP()
    {
        var model = ServingFixtures.MlaModel();
        var gpu = ServingFixtures.H100;
        foreach (int tp in new[] { 1, 8 })
        {
            var r = Engine.Estimate(new EstimateRequest(model, new Deployment(gpu, 8), new Workload(),
                new EngineSettings([new("tp_size", tp.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("context_length", "4096")])));
            var kv = r.Devices[0].Items.Single(i => i.Name == "KV pool");
            Assert.Contains(kv.Inputs, i => i.Name == "cell_size" && i.Value == 576 * 61 * 2);
        }
    }

    [Fact]
    public void QwQ_32B_TP4_public_case()
    {
        // sglang-qwq-32b-tp4-4x24gb-pcie: 21.63 GiB free before loading per rank, default fraction 0.85;
        // logged 46,611 tokens, K 1.42 GiB, V 1.42 GiB, weights 15.54 GiB. The weights SGLang logs are the drop in
        // free memory during loading (15.54) where the tensors are 15.26 GiB: the caching allocator's segments and
        // the rotary table explain 0.23 GiB of it; the rest (non-torch growth while loading) lands in the pool.
        var gpu = ServingFixtures.Gpu("24GB PCIe GPU", 24576, "PCIe 4.0 x16", "8.6");
        var r = Engine.Estimate(new EstimateRequest(ServingFixtures.QwQ32B(), new Deployment(gpu, 4, freeBytesPerGpu: (long)(21.63 * GiB) + Overhead(4, gpu)),
            new Workload(), new EngineSettings([new("tp_size", "4"), new("dtype", "bfloat16"), new("context_length", "131072"), new("chunked_prefill_size", "2048"), new("max_prefill_tokens", "16384"), new("engine_version", "~0.4.3")])));
        output.WriteLine($"tokens {r.PrintedFigures["max_total_num_tokens"]} k {r.PrintedFigures["k_gib"]} weights {r.PrintedFigures["weights_gib"]}");
        Assert.InRange(r.PrintedFigures["max_total_num_tokens"], 46611 * 0.97, 46611 * 1.03);
        Assert.InRange(r.PrintedFigures["k_gib"], 1.42 * 0.97, 1.42 * 1.03);
        Assert.Equal(r.PrintedFigures["k_gib"], r.PrintedFigures["v_gib"]);
        Assert.InRange(r.PrintedFigures["weights_gib"], 15.54 * 0.99, 15.54);
    }

    [Fact]
    public void A_reading_taken_after_start_up_is_used_as_is()
    {
        // SGLang's own "avail mem" before loading: the same pool as the free memory at start-up less its start-up
        var gpu = ServingFixtures.Gpu("24GB PCIe GPU", 24576, "PCIe 4.0 x16", "8.6");
        long read = (long)(21.63 * GiB);
        EstimateRequest Request(Deployment d) => new(ServingFixtures.QwQ32B(), d, new Workload(),
            new EngineSettings([new("tp_size", "4"), new("context_length", "131072"), new("engine_version", "0.4.3")]));
        var fromStart = Engine.Estimate(Request(new Deployment(gpu, 4, freeBytesPerGpu: read + Overhead(4, gpu))));
        var fromReading = Engine.Estimate(Request(new Deployment(gpu, 4, freeBytesPerGpu: read) { FreeReadAfterEngineStart = true }));
        Assert.Equal(fromStart.Capacity!.KvCacheTokens, fromReading.Capacity!.KvCacheTokens);
    }

    [Fact]
    public void No_room_gives_SGLangs_error()
    {
        var gpu = ServingFixtures.L4;
        var r = Engine.Estimate(new EstimateRequest(ServingFixtures.Qwen2_7B(), new Deployment(gpu), new Workload(), new EngineSettings([new("context_length", "4096"), new("mem_fraction_static", "0.6")])));
        Assert.Equal(0, r.Capacity!.KvCacheTokens);
        Assert.Equal("Not enough memory. Please try to increase --mem-fraction-static.", r.Capacity.EngineError);
    }
}
