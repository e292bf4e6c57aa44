using VramFit.Errors;
using VramFit.Hardware;
using VramFit.Numerics;

namespace VramFit.Performance;

/// <summary>The arithmetic the matmuls run in, which picks the accelerator's peak.</summary>
public enum ComputePrecision
{
    /// <summary>16-bit tensor cores (fp16 or bf16 activations): dense checkpoints and every weight-only scheme.</summary>
    Half,

    /// <summary>TF32 tensor cores for fp32 checkpoints.</summary>
    Tf32,

    /// <summary>FP8 × FP8 (W8A8-FP8).</summary>
    Fp8,

    /// <summary>INT8 × INT8 (W8A8 SmoothQuant).</summary>
    Int8,

    /// <summary>FP4 × FP4 (NVFP4 / MXFP4 on Blackwell).</summary>
    Fp4,
}

/// <summary>The precision and peak rate a weight format runs at on one accelerator.</summary>
/// <param name="Precision">The arithmetic used.</param>
/// <param name="PeakFlops">Dense peak in FLOP/s (or OP/s for int8).</param>
/// <param name="Reason">Why this precision: shown in the explanation.</param>
public readonly record struct ComputeRate(ComputePrecision Precision, double PeakFlops, string Reason)
{
    /// <summary>
    /// Resolves the rate for <paramref name="format"/> on <paramref name="gpu"/>. Weight-only formats (GPTQ/AWQ
    /// W4A16, INT8 W8A16, NF4, GGUF) dequantize inside the kernel and multiply in 16 bits, so they run at the
    /// 16-bit peak with their packed bytes; W8A8/FP8/FP4 use the low-precision peak only where the hardware has it
    /// (vLLM falls back to weight-only Marlin kernels for FP8 on GPUs before Ada, compute capability &lt; 8.9).
    /// </summary>
    public static ComputeRate For(WeightFormat format, Accelerator gpu)
    {
        double half = HalfRate(gpu, format.DenseType);
        if (half <= 0)
            throw new InvalidSettingException("gpu", $"{gpu.Name} has no fp16/bf16 throughput in its description");
        switch (format.Kind)
        {
            case WeightFormatKind.Dense when format.DenseType == ScalarType.F32:
                // TF32 tensor cores run at half the fp16 dense rate on A100 (156 vs 312 TFLOPS) and H100 SXM
                // (494.7 vs 989.4 TFLOPS), NVIDIA A100 / H100 datasheets.
                return new(ComputePrecision.Tf32, half / 2 * 1e12, "fp32 weights run on TF32 tensor cores (half the 16-bit peak)");
            case WeightFormatKind.Fp8 when gpu.Fp8Tflops > 0:
                return new(ComputePrecision.Fp8, gpu.Fp8Tflops * 1e12, "FP8 weights and activations (W8A8-FP8)");
            case WeightFormatKind.Int8SmoothQuant when gpu.Int8Tops > 0:
                return new(ComputePrecision.Int8, gpu.Int8Tops * 1e12, "INT8 weights and activations (W8A8)");
            case WeightFormatKind.Nvfp4 or WeightFormatKind.Mxfp4 when gpu.Fp4Tflops > 0:
                return new(ComputePrecision.Fp4, gpu.Fp4Tflops * 1e12, "FP4 weights and activations");
            case WeightFormatKind.Dense:
                return new(ComputePrecision.Half, half * 1e12, $"{format.DenseType.DisplayName()} weights and activations");
            default:
                return new(ComputePrecision.Half, half * 1e12,
                    $"{format.Name} is dequantized in the kernel: 16-bit compute, packed weight bytes");
        }
    }

    private static double HalfRate(Accelerator gpu, ScalarType activation)
    {
        double preferred = activation == ScalarType.F16 ? gpu.Fp16Tflops : gpu.Bf16Tflops;
        return preferred > 0 ? preferred : Math.Max(gpu.Fp16Tflops, gpu.Bf16Tflops);
    }
}
