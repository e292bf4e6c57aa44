using System.Collections.Immutable;
using VramFit.Errors;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Performance;

public sealed partial class PerformanceModel
{
    /// <summary>
    /// TTFT of a <paramref name="promptTokens"/> prompt, TPOT and decode throughput of <paramref name="batch"/>
    /// sequences at the mean context of a request (prompt + half its output), each step explained.
    /// </summary>
    public PerformanceEstimate Estimate(int promptTokens, int outputTokens, int batch)
    {
        if (promptTokens < 1)
            throw new InvalidSettingException("prompt-len", $"must be at least 1, got {promptTokens}");
        if (outputTokens < 1)
            throw new InvalidSettingException("output-len", $"must be at least 1, got {outputTokens}");
        if (batch < 1)
            throw new InvalidSettingException("batch", $"must be at least 1, got {batch}");
        long context = promptTokens + outputTokens / 2;
        var prefill = Explain("prefill", StepShape.Prefill(promptTokens));
        var decode = Explain("decode step", StepShape.Decode(batch, context));
        return new PerformanceEstimate
        {
            Model = Profile.Model.Name,
            Gpu = Gpu.Name,
            WeightFormat = Profile.Format.Name,
            KvCacheType = KvType.DisplayName(),
            Compute = Rate,
            TensorParallel = Layout.TensorParallel,
            PipelineParallel = Layout.PipelineParallel,
            Batch = batch,
            PromptTokens = promptTokens,
            OutputTokens = outputTokens,
            TtftSeconds = prefill.Time.TotalSeconds,
            TpotSeconds = decode.Time.TotalSeconds,
            DecodeTokensPerSecond = batch / decode.Time.TotalSeconds * PipelineThroughputFactor,
            PrefillTokensPerSecond = promptTokens / prefill.Time.TotalSeconds,
            Prefill = prefill,
            Decode = decode,
        };
    }

    /// <summary>The price of <paramref name="shape"/> as a tree of terms with their formula inputs.</summary>
    public StepBreakdown Explain(string name, StepShape shape)
    {
        var t = Step(shape);
        var e = Efficiency;
        int tp = Layout.TensorParallel;
        var items = ImmutableArray.CreateBuilder<PerformanceItem>();
        items.Add(new PerformanceItem
        {
            Name = "compute",
            Seconds = t.ComputeSeconds,
            Formula = "FLOPs / TP / (peak × compute efficiency); FLOPs = 2 × active params × tokens + attention + 2 × head params × sampled",
            Inputs =
            [
                new("FLOPs", t.Flops, "FLOP"),
                new("tokens", shape.Tokens),
                new("sampled tokens", shape.SampledTokens),
                new("active params per token", ActiveParameters),
                new("attention pairs (prefill)", shape.PrefillAttentionPairs),
                new("attended context (decode)", shape.DecodeContextTokens, "tokens"),
                new("peak", Rate.PeakFlops / 1e12, "TFLOPS " + Rate.Precision),
                new("compute efficiency", e.ComputeEfficiency),
                new("TP", tp),
            ],
        });
        items.Add(new PerformanceItem
        {
            Name = "memory",
            Seconds = t.MemorySeconds,
            Formula = "bytes / TP / (bandwidth × bandwidth efficiency); bytes = weights read once + KV read/written + activations",
            Inputs =
            [
                new("bytes", t.GpuBytes, "B"),
                new("dense weight bytes", _c.DenseWeightBytes, "B"),
                new("KV bytes per token", _kvBytesPerToken, "B"),
                new("KV dtype", KvType.Bits() / 8.0, "B"),
                new("bandwidth", Gpu.MemoryBandwidthGBps, "GB/s"),
                new("bandwidth efficiency", e.BandwidthEfficiency),
                new("TP", tp),
            ],
        });
        if (_c.MoeExperts.Length > 0)
        {
            double touched = 0, total = 0;
            for (int g = 0; g < _c.MoeExperts.Length; g++)
            {
                touched += TouchedExperts(_c.MoeExperts[g], _c.MoeTopK[g], shape.Tokens);
                total += _c.MoeExperts[g];
            }

            items.Add(new PerformanceItem
            {
                Name = "experts touched",
                Seconds = 0,
                Formula = "E × (1 − (1 − k/E)^tokens) experts read per MoE layer group",
                Inputs = [new("experts touched", touched), new("experts", total), new("top-k", _c.MoeTopK[0]), new("tokens", shape.Tokens)],
            });
        }

        if (t.CommunicationSeconds > 0)
        {
            items.Add(new PerformanceItem
            {
                Name = "communication",
                Seconds = t.CommunicationSeconds,
                Formula = "TP: 2 × layers × (2(n−1)/n × tokens × hidden bytes / link + latency); PP: (p−1) × (tokens × hidden bytes / link + latency)",
                Inputs =
                [
                    new("layers", _c.Layers),
                    new("TP", tp),
                    new("PP", Layout.PipelineParallel),
                    new("message bytes", shape.Tokens * _c.HiddenBytesPerToken, "B"),
                    new("link", _linkBandwidth / 1e9, "GB/s"),
                    new("link efficiency", e.InterconnectEfficiency),
                    new("latency", e.CollectiveLatencySeconds * 1e6, "µs"),
                ],
            });
        }

        if (t.OffloadSeconds > 0)
        {
            var o = Offload;
            items.Add(new PerformanceItem
            {
                Name = o.Mode == OffloadMode.StreamOverPcie ? "offload (weights over PCIe)" : "offload (CPU compute)",
                Seconds = t.OffloadSeconds,
                Formula = o.Mode == OffloadMode.StreamOverPcie
                    ? "offloaded bytes / PCIe bandwidth"
                    : "max(offloaded bytes / host bandwidth, offloaded FLOPs / host FLOPS)",
                Inputs =
                [
                    new("layer fraction", o.LayerFraction),
                    new("expert fraction", o.ExpertFraction),
                    new("PCIe", o.PcieGBps, "GB/s"),
                    new("host bandwidth", o.HostMemoryGBps, "GB/s"),
                    new("host compute", o.HostTflops, "TFLOPS"),
                ],
            });
        }

        if (t.OverheadSeconds > 0)
            items.Add(new PerformanceItem { Name = "step overhead", Seconds = t.OverheadSeconds, Formula = "fixed CPU cost per iteration" });
        return new StepBreakdown { Name = name, Shape = shape, Time = t, Items = items.ToImmutable() };
    }
}
