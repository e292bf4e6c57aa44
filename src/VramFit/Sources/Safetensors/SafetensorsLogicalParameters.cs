namespace VramFit.Sources.Safetensors;

/// <summary>
/// Logical (unpacked) parameters a stored tensor represents. Packed integer tensors hold several weights per
/// element; scales, zero points, group indices and quantizer state hold none (they are overhead, counted in
/// bytes only). Layouts: shared/docs/ENGINE-MEMORY-FACTS.md, "HF quantized checkpoints".
/// </summary>
public static class SafetensorsLogicalParameters
{
    // Side tensors written by GPTQ/AWQ (qzeros, scales, g_idx), compressed-tensors (weight_scale, weight_zero_point,
    // weight_g_idx, weight_shape, *_global_scale), FP8 checkpoints (weight_scale(_inv), input_scale), bitsandbytes
    // (absmax, quant_map, nested_*, SCB, quant_state.*), KV-cache scales (k_scale, v_scale).
    private static readonly string[] SideSuffixes =
    [
        ".qzeros", ".scales", ".g_idx", ".weight_scale", ".weight_scale_inv", ".weight_scale_2", ".input_scale",
        ".weight_zero_point", ".weight_g_idx", ".weight_shape", ".weight_global_scale", ".input_global_scale",
        ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", ".SCB", ".k_scale", ".v_scale", ".output_scale",
    ];

    /// <summary>Logical parameters of <paramref name="tensor"/> under <paramref name="quantization"/> (null: elements).</summary>
    public static long Of(SafetensorsTensorInfo tensor, SafetensorsQuantization? quantization)
    {
        long elements = tensor.Elements;
        if (quantization is null)
            return elements;
        string name = tensor.Name;
        if (name.Contains(".quant_state.", StringComparison.Ordinal))
            return 0;
        foreach (var suffix in SideSuffixes)
            if (name.EndsWith(suffix, StringComparison.Ordinal))
                return 0;

        int bits = quantization.Bits is > 0 and < 32 ? quantization.Bits : 4;
        bool packedInt32 = tensor.Dtype is "I32" or "U32";
        bool packedBytes = tensor.Dtype is "U8" or "I8";
        if (name.EndsWith(".qweight", StringComparison.Ordinal) && packedInt32)
            return elements * (32 / bits);
        if (name.EndsWith(".weight_packed", StringComparison.Ordinal))
            return packedInt32 ? elements * (32 / bits) : packedBytes ? elements * 2 : elements;
        // gpt-oss MXFP4 experts: *_blocks hold two E2M1 values per byte, *_scales one E8M0 per 32 values.
        if (quantization.Method == "mxfp4" && tensor.Dtype == "U8")
        {
            if (name.EndsWith("_scales", StringComparison.Ordinal))
                return 0;
            if (name.EndsWith("_blocks", StringComparison.Ordinal))
                return elements * 2;
        }

        // bitsandbytes Params4bit: a uint8 weight holding two 4-bit codes.
        if (quantization.Method is "bitsandbytes-nf4" or "bitsandbytes-fp4" && packedBytes && name.EndsWith(".weight", StringComparison.Ordinal))
            return elements * 2;
        // NVFP4 (modelopt): uint8 weight with two E2M1 values per byte.
        if (quantization.Method == "nvfp4" && packedBytes && name.EndsWith(".weight", StringComparison.Ordinal))
            return elements * 2;
        return elements;
    }
}
