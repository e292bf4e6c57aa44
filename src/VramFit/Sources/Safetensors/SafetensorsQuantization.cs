using System.Text.Json;
using VramFit.Numerics;

namespace VramFit.Sources.Safetensors;

/// <summary>
/// How a safetensors checkpoint is quantized, recognised from <c>config.json</c>'s <c>quantization_config</c>
/// and, failing that, from the tensor names the quantizers write. Packed layouts: shared/docs/ENGINE-MEMORY-FACTS.md
/// ("HF quantized checkpoints").
/// </summary>
/// <param name="Method">"gptq", "awq", "bitsandbytes-nf4", "bitsandbytes-fp4", "bitsandbytes-int8", "fp8",
/// "compressed-tensors", "mxfp4", "nvfp4".</param>
/// <param name="Bits">Bits per packed weight (4 for GPTQ/AWQ unless stated).</param>
/// <param name="GroupSize">Quantization group size when known, else null.</param>
/// <param name="Evidence">"config.json" or "tensor names".</param>
/// <param name="Format">The matching <see cref="WeightFormat"/> when one exists.</param>
public sealed record SafetensorsQuantization(string Method, int Bits, int? GroupSize, string Evidence, WeightFormat? Format)
{
    /// <summary>
    /// Recognises the scheme. <paramref name="quantizationConfig"/> is config.json's <c>quantization_config</c>
    /// (or null); <paramref name="tensors"/> lets names and shapes decide when the config is silent.
    /// Returns null for unquantized checkpoints.
    /// </summary>
    public static SafetensorsQuantization? Detect(JsonElement? quantizationConfig, IReadOnlyCollection<SafetensorsTensorInfo> tensors)
    {
        if (quantizationConfig is { ValueKind: JsonValueKind.Object } q)
            return FromConfig(q, tensors);
        return FromNames(tensors);
    }

    private static SafetensorsQuantization? FromConfig(JsonElement q, IReadOnlyCollection<SafetensorsTensorInfo> tensors)
    {
        string method = (Str(q, "quant_method") ?? "").ToLowerInvariant();
        const string evidence = "config.json";
        switch (method)
        {
            case "gptq" or "awq":
            {
                // AutoAWQ's older configs say w_bit / q_group_size.
                int bits = Int(q, "bits") ?? Int(q, "w_bit") ?? BitsFromShapes(tensors) ?? 4;
                int group = Int(q, "group_size") ?? Int(q, "q_group_size") ?? 128;
                return Packed(method, bits, group, evidence);
            }

            case "bitsandbytes":
            {
                if (Bool(q, "load_in_8bit") == true)
                    return Bnb8(evidence);
                bool fp4 = string.Equals(Str(q, "bnb_4bit_quant_type"), "fp4", StringComparison.OrdinalIgnoreCase);
                return Bnb4(fp4, Bool(q, "bnb_4bit_use_double_quant") == true, evidence);
            }

            case "fp8" or "fbgemm_fp8":
                return Fp8(q.TryGetProperty("weight_block_size", out var block) && block.ValueKind == JsonValueKind.Array
                    || tensors.Any(t => t.Name.EndsWith(".weight_scale_inv", StringComparison.Ordinal)), evidence);
            case "mxfp4":
                return Mxfp4(evidence);
            case "modelopt":
            {
                string algo = (Str(q, "quant_algo") ?? "").ToUpperInvariant();
                if (algo.Contains("NVFP4", StringComparison.Ordinal))
                    return Nvfp4(evidence);
                return algo.Contains("FP8", StringComparison.Ordinal) ? Fp8(false, evidence) : FromNames(tensors) ?? new SafetensorsQuantization(method, 16, null, evidence, null);
            }

            case "compressed-tensors":
                return CompressedTensors(q, tensors, evidence);
            default:
                // A method we do not model (hqq, eetq, quark …): report it, sizes still come from the tensors.
                return method.Length == 0 ? FromNames(tensors) : new SafetensorsQuantization(method, 16, null, evidence, null);
        }
    }

    private static SafetensorsQuantization CompressedTensors(JsonElement q, IReadOnlyCollection<SafetensorsTensorInfo> tensors, string evidence)
    {
        int? bits = null, group = null;
        string? type = null;
        if (q.TryGetProperty("config_groups", out var groups) && groups.ValueKind == JsonValueKind.Object)
        {
            foreach (var g in groups.EnumerateObject())
            {
                if (g.Value.ValueKind == JsonValueKind.Object && g.Value.TryGetProperty("weights", out var w) && w.ValueKind == JsonValueKind.Object)
                {
                    bits ??= Int(w, "num_bits");
                    group ??= Int(w, "group_size");
                    type ??= Str(w, "type");
                }
            }
        }

        string format = Str(q, "format") ?? "";
        WeightFormat? weightFormat = null;
        if (format.Contains("nvfp4", StringComparison.Ordinal))
            return Nvfp4(evidence) with { Method = "compressed-tensors" };
        if (format == "float-quantized" || (type == "float" && bits == 8))
            weightFormat = WeightFormat.Parse("fp8-channel");
        else if (format == "pack-quantized" && bits is 4 or 8)
            weightFormat = WeightFormat.Parse($"gptq-int{bits}-g{group ?? 128}") with { HasGroupIndex = tensors.Any(t => t.Name.EndsWith(".weight_g_idx", StringComparison.Ordinal)) };
        else if (format == "int-quantized" && bits == 8)
            weightFormat = WeightFormat.Parse("w8a8");
        return new SafetensorsQuantization("compressed-tensors", bits ?? 8, group, evidence, weightFormat);
    }

    private static SafetensorsQuantization? FromNames(IReadOnlyCollection<SafetensorsTensorInfo> tensors)
    {
        bool Has(string suffix) => tensors.Any(t => t.Name.EndsWith(suffix, StringComparison.Ordinal));
        const string evidence = "tensor names";
        if (Has(".qweight"))
            return Packed(Has(".g_idx") ? "gptq" : "awq", BitsFromShapes(tensors) ?? 4, null, evidence);
        if (Has(".weight_packed"))
            return new SafetensorsQuantization("compressed-tensors", 4, null, evidence, null);
        if (Has(".absmax") || Has(".quant_map"))
            return Bnb4(tensors.Any(t => t.Name.Contains("bitsandbytes__fp4", StringComparison.Ordinal)), Has(".nested_absmax"), evidence);
        if (Has(".SCB"))
            return Bnb8(evidence);
        if (Has("_blocks") && Has("_scales"))
            return Mxfp4(evidence);
        if (Has(".weight_scale_inv"))
            return Fp8(true, evidence);
        if (tensors.Any(t => t.Dtype is "F8_E4M3" or "F8_E5M2") && Has(".weight_scale"))
            return Fp8(false, evidence);
        return null;
    }

    /// <summary>GPTQ/AWQ bits from the first scales/qzeros pair: qzeros packs out × bits / 32 int32 per group.</summary>
    private static int? BitsFromShapes(IReadOnlyCollection<SafetensorsTensorInfo> tensors)
    {
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var z in tensors)
        {
            if (!z.Name.EndsWith(".qzeros", StringComparison.Ordinal) || z.Shape.Length != 2)
                continue;
            if (byName.TryGetValue(z.Name[..^".qzeros".Length] + ".scales", out var s) && s.Shape.Length == 2 && s.Shape[1] > 0)
            {
                long bits = z.Shape[1] * 32 / s.Shape[1];
                if (bits is 2 or 3 or 4 or 8)
                    return (int)bits;
            }
        }

        return null;
    }

    private static SafetensorsQuantization Packed(string method, int bits, int? group, string evidence)
    {
        WeightFormat? format = bits is 2 or 3 or 4 or 8
            ? WeightFormat.Parse($"{method}-int{bits}-g{(group is > 0 ? group : 128)}") with { GroupSize = group ?? 128 }
            : null;
        return new SafetensorsQuantization(method, bits, group, evidence, format);
    }

    private static SafetensorsQuantization Bnb4(bool fp4, bool doubleQuant, string evidence) => new(
        fp4 ? "bitsandbytes-fp4" : "bitsandbytes-nf4", 4, 64, evidence,
        WeightFormat.Parse((fp4 ? "fp4" : "nf4") + (doubleQuant ? "-dq" : "")));

    private static SafetensorsQuantization Bnb8(string evidence) => new("bitsandbytes-int8", 8, null, evidence, WeightFormat.Parse("llm-int8"));

    private static SafetensorsQuantization Fp8(bool block, string evidence) => new("fp8", 8, block ? 128 : null, evidence, WeightFormat.Parse(block ? "fp8-block" : "fp8"));

    private static SafetensorsQuantization Mxfp4(string evidence) => new("mxfp4", 4, 32, evidence, WeightFormat.Parse("mxfp4") with { ExpertsOnly = true });

    private static SafetensorsQuantization Nvfp4(string evidence) => new("nvfp4", 4, 16, evidence, WeightFormat.Parse("nvfp4"));

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

    private static bool? Bool(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
