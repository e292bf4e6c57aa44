using VramFit.Engines;
using VramFit.Engines.Serving;
using VramFit.Engines.TensorRtLlm;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.TensorRtLlm;

public class TensorRtLlmEngineTests
{
    private static readonly TensorRtLlmEngine Engine = new();

    private static EstimateRequest Request(params (string, string)[] s) => new(ServingFixtures.Llama31_8B(), new Deployment(ServingFixtures.H100, 2), new Workload(),
        new EngineSettings(s.Select(x => new KeyValuePair<string, string>(x.Item1, x.Item2))));

    [Fact]
    public void Blocks_of_32_tokens_take_the_free_fraction_after_weights_and_warmup()
    {
        var r = Engine.Estimate(Request(("max_seq_len", "8192")));
        var d = r.Devices[0];
        long free = ServingFixtures.H100.MemoryBytes - d.BytesOf(Reports.MemoryCategory.Weights) - d.BytesOf(Reports.MemoryCategory.Overhead) - d.BytesOf(Reports.MemoryCategory.Activations);
        long block = 32L * 32 * 8 * 128 * 2 * 2;                  // tokens_per_block × layers × kv heads × dim × (K, V) × 2 B
        Assert.Equal((long)(free * 0.9) / block, r.Capacity!.GpuBlocks);
        Assert.Equal(r.Capacity.GpuBlocks * 32, r.Capacity.KvCacheTokens);
        Assert.Equal(32, r.Capacity.BlockSize);
    }

    [Fact]
    public void Smaller_fraction_and_tp_change_capacity_as_expected()
    {
        var half = Engine.Estimate(Request(("free_gpu_memory_fraction", "0.45"), ("max_seq_len", "8192"))).Capacity!;
        var full = Engine.Estimate(Request(("max_seq_len", "8192"))).Capacity!;
        Assert.InRange(half.KvCacheTokens / (double)full.KvCacheTokens, 0.49, 0.51);
        var tp2 = Engine.Estimate(Request(("tp_size", "2"), ("max_seq_len", "8192"))).Capacity!;
        Assert.True(tp2.KvCacheTokens > 2 * full.KvCacheTokens);   // half the KV heads and half the weights per rank
    }

    [Fact]
    public void Launch_command_uses_trtllm_serve_flags() =>
        Assert.Equal("trtllm-serve meta-llama/Llama-3.1-8B --tp_size 1 --pp_size 1 --max_batch_size 2048 --max_num_tokens 8192 --max_seq_len 8192 --kv_cache_free_gpu_memory_fraction 0.9",
            Engine.Estimate(Request(("max_seq_len", "8192"))).LaunchCommand);
}
