using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Performance;

/// <summary>
/// Roofline latency model of one model replica on one accelerator type. Everything that depends only on the
/// model, the formats and the hardware is folded into per-token constants at construction; <see cref="Step"/>
/// is then a handful of multiplications, allocation-free, so the planner and the simulator can call it
/// millions of times. <see cref="Explain"/> renders the same arithmetic as a tree of items with their inputs.
/// </summary>
public sealed partial class PerformanceModel : IStepTimeModel
{
    private readonly ModelCosts _c;
    private readonly double _kvBytes;
    private readonly double _kvBytesPerToken;
    private readonly double _peakFlops;
    private readonly double _bandwidth;
    private readonly double _linkBandwidth;

    private PerformanceModel(ModelProfile profile, ModelCosts costs, Accelerator gpu, ScalarType kvType, ParallelLayout layout,
        EfficiencyFactors efficiency, OffloadPlan offload)
    {
        Profile = profile;
        Gpu = gpu;
        KvType = kvType;
        Layout = layout;
        Efficiency = efficiency;
        Offload = offload;
        Rate = ComputeRate.For(profile.Format, gpu);
        _c = costs;
        _kvBytes = kvType.Bits() / 8.0;
        _kvBytesPerToken = costs.KvElementsPerToken * _kvBytes;
        _peakFlops = Rate.PeakFlops;
        _bandwidth = gpu.MemoryBandwidthGBps * 1e9;
        _linkBandwidth = (layout.InterconnectGBps ?? gpu.InterconnectGBps / 2) * 1e9;
        if (layout.DeviceCount > 1 && !(_linkBandwidth > 0))
            throw new InvalidSettingException("interconnect", $"{gpu.Name} has no interconnect bandwidth; give one for TP/PP > 1");
    }

    /// <summary>
    /// Builds the model for <paramref name="profile"/> (its weight format decides bytes and compute precision)
    /// with a KV cache of <paramref name="kvType"/> on devices of type <paramref name="gpu"/>.
    /// </summary>
    public static PerformanceModel Create(ModelProfile profile, Accelerator gpu, ScalarType kvType = ScalarType.BF16,
        ParallelLayout? layout = null, EfficiencyFactors? efficiency = null, OffloadPlan? offload = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(gpu);
        layout ??= ParallelLayout.Single;
        efficiency ??= EfficiencyFactors.Default;
        offload ??= OffloadPlan.None;
        Check(gpu, kvType, layout, efficiency, offload);
        return new PerformanceModel(profile, new ModelCosts(profile), gpu, kvType, layout, efficiency, offload);
    }

    /// <summary>
    /// The same model and weight format re-priced on other hardware, KV dtype, split, efficiencies or offload,
    /// without walking its tensors again: what a planner varies in its inner loop. Null keeps the current value.
    /// </summary>
    public PerformanceModel With(Accelerator? gpu = null, ScalarType? kvType = null, ParallelLayout? layout = null,
        EfficiencyFactors? efficiency = null, OffloadPlan? offload = null)
    {
        var g = gpu ?? Gpu;
        var kv = kvType ?? KvType;
        var l = layout ?? Layout;
        var e = efficiency ?? Efficiency;
        var o = offload ?? Offload;
        Check(g, kv, l, e, o);
        return new PerformanceModel(Profile, _c, g, kv, l, e, o);
    }

    private static void Check(Accelerator gpu, ScalarType kvType, ParallelLayout layout, EfficiencyFactors efficiency, OffloadPlan offload)
    {
        layout.Validate();
        efficiency.Validate();
        offload.Validate();
        if (!(gpu.MemoryBandwidthGBps > 0))
            throw new InvalidSettingException("gpu", $"{gpu.Name} has no memory bandwidth in its description");
        if (kvType.Bits() > 32)
            throw new InvalidSettingException("kv-cache-dtype", $"{kvType} is not a KV cache type");
    }

    public ModelProfile Profile { get; }

    public Accelerator Gpu { get; }

    public ScalarType KvType { get; }

    public ParallelLayout Layout { get; }

    public EfficiencyFactors Efficiency { get; }

    public OffloadPlan Offload { get; }

    /// <summary>The precision and peak the matmuls run at.</summary>
    public ComputeRate Rate { get; }

    /// <summary>KV bytes per cached token summed over full-context (and MLA) layers.</summary>
    public double KvBytesPerToken => _kvBytesPerToken;

    /// <summary>Weight bytes a step reads besides routed experts (blocks and output head).</summary>
    public double DenseWeightBytes => _c.DenseWeightBytes;

    /// <summary>Active parameters per token (2 FLOPs each): dense blocks, top-k routed experts and the output head.</summary>
    public double ActiveParameters => (_c.DenseLinearFlopsPerToken + _c.ExpertLinearFlopsPerToken + _c.HeadFlopsPerSample) / 2;

    /// <summary>
    /// Throughput gain of pipeline parallelism for a steady stream of micro-batches: p stages work concurrently
    /// except for the fill/drain bubble, p·m/(m + p − 1) (GPipe, Huang et al. 2019).
    /// </summary>
    public double PipelineThroughputFactor
    {
        get
        {
            int p = Layout.PipelineParallel, m = Layout.MicroBatches ?? p;
            return p * (double)m / (m + p - 1);
        }
    }

    double IStepTimeModel.StepSeconds(in StepShape shape) => Step(shape).TotalSeconds;

    /// <summary>Prices one iteration; allocation-free.</summary>
    public StepTime Step(in StepShape s)
    {
        if (s.IsEmpty)
            return default;
        double tokens = s.Tokens;
        double tp = Layout.TensorParallel;

        double linear = _c.DenseLinearFlopsPerToken * tokens + _c.ExpertLinearFlopsPerToken * tokens;
        double attn = _c.AttnPrefillFlopsPerPair * s.PrefillAttentionPairs + _c.AttnDecodeFlopsPerPair * s.DecodeContextTokens;
        double kv = _kvBytesPerToken * (s.PrefillTokens + s.DecodeContextTokens);
        for (int g = 0; g < _c.Windows.Length; g++)
        {
            double w = _c.Windows[g];
            attn += _c.WindowPrefillFlopsPerPair[g] * Math.Min(s.PrefillAttentionPairs, s.PrefillTokens * w)
                + _c.WindowDecodeFlopsPerPair[g] * Math.Min(s.DecodeContextTokens, s.DecodeSequences * w);
            kv += _c.WindowKvElementsPerToken[g] * _kvBytes * (s.PrefillTokens + Math.Min(s.DecodeContextTokens, s.DecodeSequences * w));
        }

        double expertBytes = 0;
        for (int g = 0; g < _c.MoeExperts.Length; g++)
            expertBytes += _c.MoeBytesPerExpert[g] * TouchedExperts(_c.MoeExperts[g], _c.MoeTopK[g], tokens);

        var off = Offload;
        double offloadedBytes = off.LayerFraction * _c.DenseWeightBytes + off.ExpertFraction * expertBytes;
        double offloadedFlops = (off.LayerFraction * _c.DenseLinearFlopsPerToken + off.ExpertFraction * _c.ExpertLinearFlopsPerToken) * tokens;
        double gpuWeightBytes = _c.DenseWeightBytes + expertBytes - (off.Mode == OffloadMode.ComputeOnCpu ? offloadedBytes : 0);
        double flops = linear + attn + _c.HeadFlopsPerSample * s.SampledTokens - (off.Mode == OffloadMode.ComputeOnCpu ? offloadedFlops : 0);
        double bytes = gpuWeightBytes + kv + _c.ActivationBytesPerToken * tokens
            + _c.RecurrentBytesPerSequence * (s.PrefillSequences + s.DecodeSequences);

        var e = Efficiency;
        double compute = flops / tp / (_peakFlops * e.ComputeEfficiency);
        double memory = bytes / tp / (_bandwidth * e.BandwidthEfficiency);
        double offload = !off.IsActive ? 0
            : off.Mode == OffloadMode.StreamOverPcie ? offloadedBytes / (off.PcieGBps * 1e9)
            : Math.Max(offloadedBytes / (off.HostMemoryGBps * 1e9), offloadedFlops / (off.HostTflops * 1e12));
        double comm = CommunicationSeconds(tokens);
        return new StepTime(flops, bytes, compute, memory, comm, offload, e.StepOverheadSeconds);
    }

    /// <summary>Seconds to prefill one prompt of <paramref name="promptTokens"/> (time to first token, unqueued).</summary>
    public double PrefillSeconds(long promptTokens) => Step(StepShape.Prefill(promptTokens)).TotalSeconds;

    /// <summary>Seconds per decode step for <paramref name="batch"/> sequences at <paramref name="context"/> tokens each.</summary>
    public double DecodeSeconds(int batch, long context) => Step(StepShape.Decode(batch, context)).TotalSeconds;

    /// <summary>Generated tokens per second of one replica decoding <paramref name="batch"/> sequences, pipeline overlap included.</summary>
    public double DecodeTokensPerSecond(int batch, long context) =>
        batch / DecodeSeconds(batch, context) * PipelineThroughputFactor;

    /// <summary>
    /// Expected distinct experts a step touches when <paramref name="tokens"/> tokens each pick
    /// <paramref name="topK"/> of <paramref name="experts"/> uniformly: E·(1 − (1 − k/E)^T). One token reads
    /// k experts; a large batch reads all of them, which is why MoE decode gets bandwidth-bound at scale.
    /// </summary>
    public static double TouchedExperts(int experts, int topK, double tokens) =>
        tokens <= 0 ? 0 : experts * (1 - Math.Pow(1 - (double)topK / experts, tokens));

    /// <summary>
    /// Tensor-parallel all-reduces (two per layer: after attention and after the MLP, Megatron-LM) as a ring,
    /// 2(n−1)/n × bytes / link bandwidth + latency each; pipeline hand-offs, one activation send per stage boundary.
    /// </summary>
    private double CommunicationSeconds(double tokens)
    {
        double message = tokens * _c.HiddenBytesPerToken;
        double link = _linkBandwidth * Efficiency.InterconnectEfficiency;
        double seconds = 0;
        int n = Layout.TensorParallel;
        if (n > 1)
            seconds += 2.0 * _c.Layers * (2.0 * (n - 1) / n * message / link + Efficiency.CollectiveLatencySeconds);
        int p = Layout.PipelineParallel;
        if (p > 1)
            seconds += (p - 1) * (message / link + Efficiency.CollectiveLatencySeconds);
        return seconds;
    }
}
