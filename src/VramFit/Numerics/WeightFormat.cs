using VramFit.Errors;
using VramFit.Models;

namespace VramFit.Numerics;

/// <summary>Family of a weight storage scheme.</summary>
public enum WeightFormatKind
{
    /// <summary>Unquantized, every tensor in <see cref="WeightFormat.DenseType"/>.</summary>
    Dense,

    /// <summary>FP8 E4M3 weights with fp32 scales per tensor, per output channel or per 128×128 block.</summary>
    Fp8,

    /// <summary>INT8 weight-only (W8A16), per-output-channel fp16 scales.</summary>
    Int8WeightOnly,

    /// <summary>INT8 weights and activations (W8A8, SmoothQuant-style): per-channel fp32 weight scales.</summary>
    Int8SmoothQuant,

    /// <summary>GPTQ: packed int32 qweight, int32 qzeros, fp16 scales per group, int32 g_idx.</summary>
    Gptq,

    /// <summary>AWQ (GEMM layout): packed int32 qweight, int32 qzeros, fp16 scales per group.</summary>
    Awq,

    /// <summary>bitsandbytes NF4 (4-bit NormalFloat), blocks of 64, optional double quantization.</summary>
    BnbNf4,

    /// <summary>bitsandbytes FP4, same layout as NF4.</summary>
    BnbFp4,

    /// <summary>bitsandbytes LLM.int8(): int8 weights with an fp32 scale per row.</summary>
    BnbInt8,

    /// <summary>OCP MXFP4: E2M1 values, one E8M0 scale per 32 (4.25 bits).</summary>
    Mxfp4,

    /// <summary>NVIDIA NVFP4: E2M1 values, one FP8 E4M3 scale per 16, plus fp32 global scales.</summary>
    Nvfp4,

    /// <summary>One ggml block type for every quantizable tensor (what-if for llama.cpp).</summary>
    Ggml,
}

/// <summary>Granularity of FP8 weight scales.</summary>
public enum Fp8ScaleGranularity
{
    PerTensor,
    PerChannel,

    /// <summary>DeepSeek-V3 style 128×128 blocks (<c>weight_scale_inv</c>).</summary>
    Block128,
}

/// <summary>
/// A weight storage scheme applied to a model's quantizable tensors (<see cref="WeightTensor.IsQuantizable"/>);
/// every other tensor (embeddings, output head, norms, biases, routers) stays in <see cref="DenseType"/>.
/// Byte counts follow the real packed layouts (shared/docs/ENGINE-MEMORY-FACTS.md, "HF quantized checkpoints").
/// </summary>
public sealed record WeightFormat
{
    public required WeightFormatKind Kind { get; init; }

    /// <summary>Display name ("bf16", "gptq-int4-g128", "nf4-dq", "q4_k").</summary>
    public required string Name { get; init; }

    /// <summary>Type of unquantized tensors (and of every tensor when <see cref="Kind"/> is Dense).</summary>
    public ScalarType DenseType { get; init; } = ScalarType.BF16;

    /// <summary>Bits per packed weight (GPTQ/AWQ: 2, 3, 4, 8).</summary>
    public int Bits { get; init; } = 16;

    /// <summary>Quantization group size along the input dimension (GPTQ/AWQ; -1 = one group per column).</summary>
    public int GroupSize { get; init; } = 128;

    /// <summary>GPTQ act-order index (g_idx) stored: current GPTQ checkpoints always store it.</summary>
    public bool HasGroupIndex { get; init; } = true;

    /// <summary>GPTQ zero points (qzeros) stored: checkpoints always store them, symmetric or not.</summary>
    public bool HasZeroPoints { get; init; } = true;

    /// <summary>GPTQ quantized symmetrically (quantization_config <c>sym</c>, default true): the zero points are constant.</summary>
    public bool Symmetric { get; init; } = true;

    /// <summary>GPTQ with activation order (<c>desc_act</c>): g_idx permutes the groups and is needed at run time.</summary>
    public bool ActOrder { get; init; }

    /// <summary>bitsandbytes double quantization of the absmax constants.</summary>
    public bool DoubleQuant { get; init; }

    public Fp8ScaleGranularity Fp8Scales { get; init; } = Fp8ScaleGranularity.PerTensor;

    /// <summary>The ggml type for <see cref="WeightFormatKind.Ggml"/>.</summary>
    public GgmlType GgmlType { get; init; }

    /// <summary>Only routed-expert tensors are quantized (gpt-oss MXFP4: attention stays bf16).</summary>
    public bool ExpertsOnly { get; init; }

    /// <summary>
    /// A multimodal model's vision encoder is quantized too: quantization applied while loading a 16-bit checkpoint
    /// (vLLM <c>--quantization bitsandbytes</c> reaches every linear layer built with the quant config, the vision
    /// blocks included), where a pre-quantized checkpoint's config lists the encoder among the modules it skips.
    /// </summary>
    public bool QuantizesVisionEncoder { get; init; }

    /// <summary>Whether this scheme packs <paramref name="tensor"/> (otherwise it stays in <see cref="DenseType"/>).</summary>
    public bool Packs(in WeightTensor tensor) =>
        Kind != WeightFormatKind.Dense && tensor.IsQuantizable && (!ExpertsOnly || tensor.IsRoutedExpert);

    /// <summary>Exact stored bytes of <paramref name="tensor"/> under this scheme, scales and indices included.</summary>
    public long Bytes(in WeightTensor tensor)
    {
        if (!Packs(tensor))
            return DenseBytes(tensor.Elements, DenseType);
        long experts = tensor.Experts, input = tensor.Columns, output = tensor.Rows;
        return experts * PackedMatrixBytes(input, output);
    }

    /// <summary>Bytes of one packed [output × input] matrix (input = contiguous / reduction dimension).</summary>
    public long PackedMatrixBytes(long input, long output)
    {
        long n = input * output;
        switch (Kind)
        {
            case WeightFormatKind.Dense:
                return DenseBytes(n, DenseType);
            case WeightFormatKind.Fp8:
                return n + Fp8Scales switch
                {
                    // fp32 weight_scale scalar (compressed-tensors / vLLM Fp8LinearMethod)
                    Fp8ScaleGranularity.PerTensor => 4,
                    Fp8ScaleGranularity.PerChannel => output * 4,
                    // DeepSeek-V3 weight_scale_inv: fp32 [ceil(out/128), ceil(in/128)]
                    _ => CeilDiv(output, 128) * CeilDiv(input, 128) * 4,
                };
            case WeightFormatKind.Int8WeightOnly:
                return n + output * 2;
            case WeightFormatKind.Int8SmoothQuant:
                // per-channel fp32 weight scale; the per-tensor activation scale is 4 bytes more
                return n + output * 4 + 4;
            case WeightFormatKind.Gptq:
            {
                long groups = GroupSize <= 0 ? 1 : CeilDiv(input, GroupSize);
                long qweight = CeilDiv(input * Bits, 32) * output * 4;      // int32 [in·bits/32, out]
                long qzeros = HasZeroPoints ? groups * CeilDiv(output * Bits, 32) * 4 : 0;   // int32 [groups, out·bits/32]
                long scales = groups * output * 2;                         // fp16 [groups, out]
                long gIdx = HasGroupIndex ? input * 4 : 0;                 // int32 [in]
                return qweight + qzeros + scales + gIdx;
            }

            case WeightFormatKind.Awq:
            {
                long groups = GroupSize <= 0 ? 1 : CeilDiv(input, GroupSize);
                long qweight = input * CeilDiv(output * Bits, 32) * 4;     // int32 [in, out/8]
                long qzeros = groups * CeilDiv(output * Bits, 32) * 4;     // int32 [in/g, out/8]
                long scales = groups * output * 2;                         // fp16 [in/g, out]
                return qweight + qzeros + scales;
            }

            case WeightFormatKind.BnbNf4 or WeightFormatKind.BnbFp4:
            {
                // bitsandbytes Params4bit: two 4-bit codes per uint8, blocksize 64.
                long packed = CeilDiv(n, 2);
                long blocks = CeilDiv(n, 64);
                if (!DoubleQuant)
                    return packed + blocks * 4 + 16 * 4;                   // fp32 absmax + 16-entry quant_map
                // double quant: uint8 absmax per block, fp32 nested absmax per 256 blocks,
                // fp32 nested_quant_map[256], fp32 quant_map[16] (bnb functional.quantize_4bit).
                return packed + blocks + CeilDiv(blocks, 256) * 4 + 256 * 4 + 16 * 4 + 4;
            }

            case WeightFormatKind.BnbInt8:
                return n + output * 4;                                     // int8 CB + fp32 SCB per row
            case WeightFormatKind.Mxfp4:
                return CeilDiv(n, 2) + CeilDiv(n, 32);                     // e2m1 pairs + e8m0 per 32
            case WeightFormatKind.Nvfp4:
                return CeilDiv(n, 2) + CeilDiv(n, 16) + 8;                 // e2m1 + fp8 per 16 + 2 fp32 globals
            case WeightFormatKind.Ggml:
            {
                var traits = GgmlTypes.Get(GgmlType);
                return CeilDiv(input, traits.BlockSize) * traits.TypeSize * output;
            }

            default:
                throw new InvalidOperationException($"unknown weight format {Kind}");
        }
    }

    /// <summary>
    /// Bytes of the main tensor of a packed [output × input] matrix, without the scale, zero-point and index
    /// tensors stored beside it (GPTQ/AWQ <c>qweight</c>, bitsandbytes' packed codes, the FP8/INT8/FP4 values);
    /// ggml types keep their scales inside each block, so all of it.
    /// </summary>
    public long PackedMatrixPayloadBytes(long input, long output)
    {
        long n = input * output;
        return Kind switch
        {
            WeightFormatKind.Dense => DenseBytes(n, DenseType),
            WeightFormatKind.Fp8 or WeightFormatKind.Int8WeightOnly or WeightFormatKind.Int8SmoothQuant or WeightFormatKind.BnbInt8 => n,
            WeightFormatKind.Gptq => CeilDiv(input * Bits, 32) * output * 4,
            WeightFormatKind.Awq => input * CeilDiv(output * Bits, 32) * 4,
            WeightFormatKind.BnbNf4 or WeightFormatKind.BnbFp4 or WeightFormatKind.Mxfp4 or WeightFormatKind.Nvfp4 => CeilDiv(n, 2),
            _ => PackedMatrixBytes(input, output),
        };
    }

    /// <summary>Bytes of the main tensor of <paramref name="tensor"/> (<see cref="PackedMatrixPayloadBytes"/>); all of it when unpacked.</summary>
    public long PayloadBytes(in WeightTensor tensor) =>
        Packs(tensor) ? tensor.Experts * PackedMatrixPayloadBytes(tensor.Columns, tensor.Rows) : Bytes(tensor);

    /// <summary>Effective bits per parameter of a [output × input] matrix under this scheme.</summary>
    public double BitsPerWeight(long input = 4096, long output = 4096) =>
        PackedMatrixBytes(input, output) * 8.0 / (input * output);

    private static long DenseBytes(long elements, ScalarType type) => type.Bits() >= 8
        ? elements * type.Bytes()
        : CeilDiv(elements * type.Bits(), 8);

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    public static WeightFormat DenseOf(ScalarType type) => new() { Kind = WeightFormatKind.Dense, Name = type.DisplayName(), DenseType = type };

    /// <summary>
    /// Parses the names users type for <c>--quant</c>/<c>--dtype</c>: "bf16", "fp16", "fp32", "fp8",
    /// "fp8-channel", "fp8-block", "int8" (W8A16), "w8a8" / "smoothquant", "gptq" / "gptq-int4" /
    /// "gptq-int8" / "gptq-int4-g32", "awq", "nf4", "nf4-dq", "fp4", "llm-int8", "mxfp4", "nvfp4",
    /// and any ggml type ("q4_k", "q8_0", "iq4_xs").
    /// </summary>
    public static WeightFormat Parse(string text, ScalarType denseType = ScalarType.BF16)
    {
        var s = (text ?? "").Trim().ToLowerInvariant();
        if (ScalarTypes.TryParse(s, out var scalar) && scalar is ScalarType.F32 or ScalarType.F16 or ScalarType.BF16)
            return DenseOf(scalar);
        var parts = s.Split('-', StringSplitOptions.RemoveEmptyEntries);
        string head = parts.Length > 0 ? parts[0] : "";
        int bits = 4, group = 128;
        foreach (var p in parts.Skip(1))
        {
            if (p.StartsWith("int", StringComparison.Ordinal) && int.TryParse(p.AsSpan(3), out var b)) bits = b;
            else if (p.EndsWith("bit", StringComparison.Ordinal) && int.TryParse(p.AsSpan(0, p.Length - 3), out var b2)) bits = b2;
            else if (p.StartsWith('g') && int.TryParse(p.AsSpan(1), out var g)) group = g;
        }

        if (head is "gptq" or "awq" && bits is not (2 or 3 or 4 or 8))
            throw new InvalidSettingException("quant", $"'{text}': {head} supports 2, 3, 4 or 8 bits");
        if (group == 0 || group < -1)
            throw new InvalidSettingException("quant", $"'{text}': group size must be positive or -1");

        WeightFormat? format = head switch
        {
            "fp8" or "f8" => new WeightFormat
            {
                Kind = WeightFormatKind.Fp8, Name = s, DenseType = denseType,
                Fp8Scales = s.Contains("block", StringComparison.Ordinal) ? Fp8ScaleGranularity.Block128
                    : s.Contains("channel", StringComparison.Ordinal) ? Fp8ScaleGranularity.PerChannel
                    : Fp8ScaleGranularity.PerTensor,
            },
            "int8" or "w8a16" => new WeightFormat { Kind = WeightFormatKind.Int8WeightOnly, Name = s, DenseType = denseType, Bits = 8 },
            "w8a8" or "smoothquant" or "sq" => new WeightFormat { Kind = WeightFormatKind.Int8SmoothQuant, Name = s, DenseType = denseType, Bits = 8 },
            // "-act": quantized with activation order (desc_act), whose g_idx the kernels keep
            "gptq" => new WeightFormat { Kind = WeightFormatKind.Gptq, Name = s, DenseType = ScalarType.F16, Bits = bits, GroupSize = group, ActOrder = parts.Contains("act") },
            "awq" => new WeightFormat { Kind = WeightFormatKind.Awq, Name = s, DenseType = ScalarType.F16, Bits = bits, GroupSize = group },
            "w4a16" => new WeightFormat { Kind = WeightFormatKind.Gptq, Name = s, DenseType = ScalarType.F16, Bits = 4, GroupSize = group },
            "nf4" or "bnb4" => new WeightFormat { Kind = WeightFormatKind.BnbNf4, Name = s, DenseType = denseType, Bits = 4, DoubleQuant = s.Contains("dq", StringComparison.Ordinal) },
            "fp4" => new WeightFormat { Kind = WeightFormatKind.BnbFp4, Name = s, DenseType = denseType, Bits = 4, DoubleQuant = s.Contains("dq", StringComparison.Ordinal) },
            "llm" or "bnb8" or "llmint8" => new WeightFormat { Kind = WeightFormatKind.BnbInt8, Name = s, DenseType = ScalarType.F16, Bits = 8 },
            "mxfp4" => new WeightFormat { Kind = WeightFormatKind.Mxfp4, Name = s, DenseType = denseType, Bits = 4 },
            "nvfp4" => new WeightFormat { Kind = WeightFormatKind.Nvfp4, Name = s, DenseType = denseType, Bits = 4 },
            _ => null,
        };
        if (format is not null)
            return format;
        if (GgmlTypes.TryParse(s, out var ggml) && ggml.BlockSize > 1)
            return new WeightFormat { Kind = WeightFormatKind.Ggml, Name = ggml.Name, DenseType = ScalarType.F32, GgmlType = ggml.Type, Bits = (int)Math.Round(ggml.BitsPerWeight) };
        // a llama.cpp file type ("q4_k_m", "IQ3_M", "Q5_K_S"): its main type, and the name that selects
        // llama-quant.cpp's per-tensor recipe for that mix in the llama.cpp engine
        if (GgmlTypes.MainTypeOfFileType(s) is { } main && GgmlTypes.Get(main).BlockSize > 1)
            return new WeightFormat { Kind = WeightFormatKind.Ggml, Name = s.ToUpperInvariant(), DenseType = ScalarType.F32, GgmlType = main, Bits = (int)Math.Round(GgmlTypes.Get(main).BitsPerWeight) };
        throw new InvalidSettingException("quant",
            $"unknown weight format '{text}' (use bf16, fp16, fp32, fp8, fp8-channel, fp8-block, int8, w8a8, gptq-int4, gptq-int8, awq, nf4, nf4-dq, fp4, llm-int8, mxfp4, nvfp4, a ggml type such as q4_k or a llama.cpp file type such as q4_k_m)");
    }
}
