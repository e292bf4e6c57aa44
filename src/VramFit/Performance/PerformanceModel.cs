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
    /// <summary>llama.cpp keeps recurrent conv/SSM state in F32 (llama-memory-recurrent: type_r/type_s = F32).</summary>
    private const double RecurrentStateBytes = 4;

    // linear-layer FLOPs per token through the blocks, split into dense (always run) and routed experts
    private readonly double _denseLinearFlopsPerToken;
    private readonly double _expertLinearFlopsPerToken;
    private readonly double _headFlopsPerSample;

    // attention FLOPs per (query, key) pair: full-context layers, and one group per sliding window
    private readonly double _attnPrefillFlopsPerPair;
    private readonly double _attnDecodeFlopsPerPair;
    private readonly int[] _windows;
    private readonly double[] _windowPrefillFlopsPerPair;
    private readonly double[] _windowDecodeFlopsPerPair;
    private readonly double[] _windowKvBytesPerToken;
    private readonly double _kvBytesPerToken;

    // weights read once per step: dense part, and routed experts grouped by (experts, top-k)
    private readonly double _denseWeightBytes;
    private readonly int[] _moeExperts;
    private readonly int[] _moeTopK;
    private readonly double[] _moeBytesPerExpert;

    private readonly double _activationBytesPerToken;
    private readonly double _recurrentBytesPerSequence;
    private readonly double _hiddenBytesPerToken;
    private readonly int _layers;

    private readonly double _peakFlops;
    private readonly double _bandwidth;
    private readonly double _linkBandwidth;

    private PerformanceModel(ModelProfile profile, Accelerator gpu, ScalarType kvType, ParallelLayout layout,
        EfficiencyFactors efficiency, OffloadPlan offload)
    {
        Profile = profile;
        Gpu = gpu;
        KvType = kvType;
        Layout = layout;
        Efficiency = efficiency;
        Offload = offload;
        Rate = ComputeRate.For(profile.Format, gpu);
        var model = profile.Model;
        double kvBytes = kvType.Bits() / 8.0;
        double actBytes = profile.Format.DenseType == ScalarType.F32 ? 4 : 2;

        var windows = new List<int>();
        var wPrefill = new List<double>();
        var wDecode = new List<double>();
        var wKv = new List<double>();
        var moe = new List<(int E, int K, double Bytes)>();
        foreach (var t in profile.Tensors)
        {
            bool inBlock = t.Layer >= 0;
            if (inBlock && model.Layers[t.Layer].IsNextN)
                continue;
            double bytes = profile.Format.Bytes(t);
            switch (t.Role)
            {
                case TensorRole.TokenEmbedding or TensorRole.PositionEmbedding:
                    // a lookup reads one row per token; a tied head multiplies by the whole matrix
                    if (t.Role == TensorRole.TokenEmbedding && model.TiedEmbeddings)
                    {
                        _headFlopsPerSample += 2.0 * t.Elements;
                        _denseWeightBytes += bytes;
                    }

                    break;
                case TensorRole.OutputHead or TensorRole.OutputBias:
                    _headFlopsPerSample += 2.0 * t.Elements;
                    _denseWeightBytes += bytes;
                    break;
                default:
                    if (inBlock && t.Experts > 1)
                    {
                        var mlp = model.Layers[t.Layer].Mlp;
                        _expertLinearFlopsPerToken += 2.0 * (t.Elements / t.Experts) * mlp.ActiveExpertCount;
                        moe.Add((mlp.ExpertCount, mlp.ActiveExpertCount, bytes / t.Experts));
                    }
                    else
                    {
                        _denseLinearFlopsPerToken += 2.0 * t.Elements;
                        _denseWeightBytes += bytes;
                    }

                    break;
            }
        }

        foreach (var layer in model.Layers)
        {
            if (layer.IsNextN)
                continue;
            _layers++;
            var a = layer.Attention;
            var f = layer.Mlp;
            double ffnActive = f.Kind switch
            {
                MlpKind.Dense => f.FfnSize,
                MlpKind.MoE => (double)f.ActiveExpertCount * f.ExpertFfnSize + (double)f.SharedExpertCount * f.SharedExpertFfnSize,
                _ => 0,
            };
            // residual stream read and written around both sub-blocks, FFN intermediate written and read
            _activationBytesPerToken += (4.0 * model.HiddenSize + 2.0 * ffnActive) * actBytes;
            switch (a.Kind)
            {
                case AttentionKind.Full:
                    _attnPrefillFlopsPerPair += 2.0 * a.HeadCount * (a.KeyHeadDim + a.ValueHeadDim);
                    _attnDecodeFlopsPerPair += 2.0 * a.HeadCount * (a.KeyHeadDim + a.ValueHeadDim);
                    _kvBytesPerToken += (a.KeyElementsPerToken + a.ValueElementsPerToken) * kvBytes;
                    break;
                case AttentionKind.SlidingWindow:
                {
                    int g = windows.IndexOf(a.SlidingWindow);
                    if (g < 0)
                    {
                        windows.Add(a.SlidingWindow);
                        wPrefill.Add(0);
                        wDecode.Add(0);
                        wKv.Add(0);
                        g = windows.Count - 1;
                    }

                    double pair = 2.0 * a.HeadCount * (a.KeyHeadDim + a.ValueHeadDim);
                    wPrefill[g] += pair;
                    wDecode[g] += pair;
                    wKv[g] += (a.KeyElementsPerToken + a.ValueElementsPerToken) * kvBytes;
                    break;
                }

                case AttentionKind.Mla:
                {
                    var m = a.Mla!;
                    // prefill expands the latent: QK over nope+rope dims, AV over v dims per head;
                    // decode absorbs W_UK/W_UV and attends in latent space (DeepSeek-V2 paper §2.1.2; vLLM MLA backend)
                    _attnPrefillFlopsPerPair += 2.0 * a.HeadCount * (m.QkNopHeadDim + m.QkRopeHeadDim + m.VHeadDim);
                    _attnDecodeFlopsPerPair += 2.0 * a.HeadCount * (2.0 * m.KvLoraRank + m.QkRopeHeadDim);
                    _kvBytesPerToken += m.LatentElementsPerToken * kvBytes;
                    break;
                }

                case AttentionKind.Recurrent:
                    var r = a.Recurrent!;
                    _recurrentBytesPerSequence += 2.0 * (r.ConvStateElements + r.SsmStateElements) * RecurrentStateBytes;
                    break;
            }
        }

        _windows = [.. windows];
        _windowPrefillFlopsPerPair = [.. wPrefill];
        _windowDecodeFlopsPerPair = [.. wDecode];
        _windowKvBytesPerToken = [.. wKv];

        // experts of layers with the same (count, top-k) share one touched-experts formula: sum their bytes
        var groups = moe.GroupBy(x => (x.E, x.K)).ToArray();
        _moeExperts = [.. groups.Select(g => g.Key.E)];
        _moeTopK = [.. groups.Select(g => g.Key.K)];
        _moeBytesPerExpert = [.. groups.Select(g => g.Sum(x => x.Bytes))];

        _hiddenBytesPerToken = model.HiddenSize * actBytes;
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
        layout.Validate();
        efficiency.Validate();
        offload.Validate();
        if (!(gpu.MemoryBandwidthGBps > 0))
            throw new InvalidSettingException("gpu", $"{gpu.Name} has no memory bandwidth in its description");
        if (kvType.Bits() > 32)
            throw new InvalidSettingException("kv-cache-dtype", $"{kvType} is not a KV cache type");
        return new PerformanceModel(profile, gpu, kvType, layout, efficiency, offload);
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
    public double DenseWeightBytes => _denseWeightBytes;

    /// <summary>Active parameters per token (2 FLOPs each): dense blocks, top-k routed experts and the output head.</summary>
    public double ActiveParameters => (_denseLinearFlopsPerToken + _expertLinearFlopsPerToken + _headFlopsPerSample) / 2;

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

        double linear = _denseLinearFlopsPerToken * tokens + _expertLinearFlopsPerToken * tokens;
        double attn = _attnPrefillFlopsPerPair * s.PrefillAttentionPairs + _attnDecodeFlopsPerPair * s.DecodeContextTokens;
        double kv = _kvBytesPerToken * (s.PrefillTokens + s.DecodeContextTokens);
        for (int g = 0; g < _windows.Length; g++)
        {
            double w = _windows[g];
            attn += _windowPrefillFlopsPerPair[g] * Math.Min(s.PrefillAttentionPairs, s.PrefillTokens * w)
                + _windowDecodeFlopsPerPair[g] * Math.Min(s.DecodeContextTokens, s.DecodeSequences * w);
            kv += _windowKvBytesPerToken[g] * (s.PrefillTokens + Math.Min(s.DecodeContextTokens, s.DecodeSequences * w));
        }

        double expertBytes = 0;
        for (int g = 0; g < _moeExperts.Length; g++)
            expertBytes += _moeBytesPerExpert[g] * TouchedExperts(_moeExperts[g], _moeTopK[g], tokens);

        var off = Offload;
        double offloadedBytes = off.LayerFraction * _denseWeightBytes + off.ExpertFraction * expertBytes;
        double offloadedFlops = (off.LayerFraction * _denseLinearFlopsPerToken + off.ExpertFraction * _expertLinearFlopsPerToken) * tokens;
        double gpuWeightBytes = _denseWeightBytes + expertBytes - (off.Mode == OffloadMode.ComputeOnCpu ? offloadedBytes : 0);
        double flops = linear + attn + _headFlopsPerSample * s.SampledTokens - (off.Mode == OffloadMode.ComputeOnCpu ? offloadedFlops : 0);
        double bytes = gpuWeightBytes + kv + _activationBytesPerToken * tokens
            + _recurrentBytesPerSequence * (s.PrefillSequences + s.DecodeSequences);

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
        double message = tokens * _hiddenBytesPerToken;
        double link = _linkBandwidth * Efficiency.InterconnectEfficiency;
        double seconds = 0;
        int n = Layout.TensorParallel;
        if (n > 1)
            seconds += 2.0 * _layers * (2.0 * (n - 1) / n * message / link + Efficiency.CollectiveLatencySeconds);
        int p = Layout.PipelineParallel;
        if (p > 1)
            seconds += (p - 1) * (message / link + Efficiency.CollectiveLatencySeconds);
        return seconds;
    }
}
