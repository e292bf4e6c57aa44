using VramFit.Engines;
using VramFit.Engines.Serving;
using VramFit.Engines.Tgi;
using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.Tgi;

public class TgiEngineTests
{
    private static readonly TgiEngine Engine = new();

    private static EstimateRequest Request(params (string, string)[] s) => new(ServingFixtures.Llama31_8B(), new Deployment(ServingFixtures.H100, 2), new Workload(),
        new EngineSettings(s.Select(x => new KeyValuePair<string, string>(x.Item1, x.Item2))));

    [Fact]
    public void Warmup_rule_by_hand()
    {
        var r = Engine.Estimate(Request(("max_total_tokens", "8192"), ("attention", "paged")));
        long overhead = CommunicationBuffers.CudaContextBytes(ServingFixtures.H100);
        long block = 16L * 32 * 8 * 128 * 2 * 2;
        long warmup = (8191 + 50 + 15) / 16;                      // max_batch_prefill_tokens = max_input_tokens + 50
        long free = ServingFixtures.H100.MemoryBytes - overhead - 16_060_522_496L - warmup * block;
        Assert.Equal(((long)(free * 0.93) / block + warmup) * 16, r.Capacity!.KvCacheTokens);
        Assert.Equal(r.Capacity.KvCacheTokens, r.PrintedFigures["max_batch_total_tokens"]);
    }

    [Fact]
    public void Cuda_memory_fraction_leaves_the_rest_of_the_device()
    {
        var full = Engine.Estimate(Request(("max_total_tokens", "8192"))).Capacity!.KvCacheTokens;
        var part = Engine.Estimate(Request(("max_total_tokens", "8192"), ("cuda_memory_fraction", "0.5"))).Capacity!.KvCacheTokens;
        Assert.True(part < full * 0.6);
    }

    [Fact]
    public void Not_enough_for_max_total_tokens_is_reported()
    {
        var r = Engine.Estimate(Request(("max_total_tokens", "131072"), ("cuda_memory_fraction", "0.25")));
        Assert.NotNull(r.Capacity!.EngineError);
        Assert.True(r.Capacity.MaxModelLen < 131072);
    }

    [Fact]
    public void Unknown_attention_is_rejected() =>
        Assert.Throws<InvalidSettingException>(() => Engine.Estimate(Request(("attention", "sdpa"))));
}
