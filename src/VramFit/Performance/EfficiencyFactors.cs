using VramFit.Errors;

namespace VramFit.Performance;

/// <summary>
/// The fractions of datasheet peaks that real serving stacks reach. A roofline with peak numbers is an upper
/// bound; these factors turn it into an estimate. Every default is a published rule of thumb, not a fit to a
/// single measurement, and every one is adjustable (<c>--mbu</c>, <c>--mfu</c> on the CLI).
/// </summary>
public sealed record EfficiencyFactors
{
    /// <summary>
    /// Achieved fraction of peak HBM bandwidth while streaming weights and KV (model bandwidth utilisation).
    /// Default 0.8: well-optimised CUDA stacks (vLLM, TensorRT-LLM) run decode at 70–85 % of peak bandwidth
    /// (MBU rule of thumb, e.g. Databricks "LLM Inference Performance Engineering: Best Practices", 2023;
    /// open-source-ai.tech glossary "model bandwidth utilization"); portable runtimes (GGUF, MLX) run lower.
    /// </summary>
    public double BandwidthEfficiency { get; init; } = 0.8;

    /// <summary>
    /// Achieved fraction of peak tensor throughput for the large GEMMs of prefill (model FLOPs utilisation).
    /// Default 0.5: prefill GEMMs at realistic shapes reach about half of the dense peak (PaLM paper, Chowdhery
    /// et al. 2022, reports 46 % MFU for training-size GEMMs; inference prefill lands in the same 40–60 % band).
    /// </summary>
    public double ComputeEfficiency { get; init; } = 0.5;

    /// <summary>
    /// Achieved fraction of the link bandwidth for ring all-reduce (NCCL bus bandwidth over link peak).
    /// Default 0.8: nccl-tests all_reduce_perf reaches ≈ 360–370 GB/s bus bandwidth on H100 NVLink-4
    /// (450 GB/s per direction) for large messages.
    /// </summary>
    public double InterconnectEfficiency { get; init; } = 0.8;

    /// <summary>
    /// Fixed cost of one collective (kernel launch and synchronisation), seconds. Default 10 µs: NCCL
    /// all-reduce of small (decode-sized, ≤ 64 KiB) messages on one NVLink node takes ≈ 10–20 µs in
    /// nccl-tests all_reduce_perf; over PCIe or InfiniBand it is higher, so set it when that is the link.
    /// </summary>
    public double CollectiveLatencySeconds { get; init; } = 10e-6;

    /// <summary>
    /// CPU-side cost of one engine iteration (scheduling, sampling, kernel launches) not hidden behind the GPU,
    /// seconds. Default 0: CUDA graphs and the async schedulers of vLLM ≥ 0.6 and SGLang overlap it with GPU work;
    /// set it (a few ms) to model eager-mode engines such as transformers.
    /// </summary>
    public double StepOverheadSeconds { get; init; }

    /// <summary>The defaults above.</summary>
    public static EfficiencyFactors Default { get; } = new();

    /// <summary>Throws <see cref="InvalidSettingException"/> when a factor is outside (0, 1] or a time is negative.</summary>
    public void Validate()
    {
        Fraction(BandwidthEfficiency, "bandwidth efficiency");
        Fraction(ComputeEfficiency, "compute efficiency");
        Fraction(InterconnectEfficiency, "interconnect efficiency");
        if (!(CollectiveLatencySeconds >= 0) || !(StepOverheadSeconds >= 0))
            throw new InvalidSettingException("efficiency", "latencies must be zero or positive");
    }

    private static void Fraction(double value, string name)
    {
        if (!(value > 0 && value <= 1))
            throw new InvalidSettingException(name, $"must be in (0, 1], got {value}");
    }
}
