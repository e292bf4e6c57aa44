using System.Globalization;
using VramFit.Errors;
using VramFit.Numerics;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Reads config.json <c>quantization_config</c> (or <c>compression_config</c>) into the
/// <see cref="WeightFormat"/> whose byte arithmetic matches the checkpoint's packed tensors.
/// </summary>
internal static class HfQuantization
{
    /// <summary>The declared format, or null for an unquantized checkpoint.</summary>
    public static WeightFormat? Read(HfConfig root, ScalarType dense)
    {
        var q = root.Section("quantization_config") ?? root.Section("compression_config");
        if (q is null)
            return null;
        var method = (q.String("quant_method") ?? (q.Bool("load_in_4bit") is true || q.Bool("load_in_8bit") is true ? "bitsandbytes" : null))
            ?.ToLowerInvariant() ?? throw new ModelDescriptionException("quantization_config.quant_method: missing");
        return method switch
        {
            "gptq" or "auto-round" or "autoround" => Gptq(q, dense),
            "awq" => Awq(q),
            "bitsandbytes" => Bitsandbytes(q, dense),
            "fp8" => Fp8(q, dense),
            "mxfp4" => new WeightFormat { Kind = WeightFormatKind.Mxfp4, Name = "mxfp4", DenseType = dense, Bits = 4, ExpertsOnly = ExpertsOnly(q) },
            "compressed-tensors" => CompressedTensors(q, dense),
            _ => throw new ModelDescriptionException(
                $"quantization_config.quant_method: '{method}' is not supported (gptq, awq, bitsandbytes, fp8, mxfp4, compressed-tensors)"),
        };
    }

    /// <summary>
    /// GPTQ (AutoGPTQ / GPTQModel / AutoRound's GPTQ export): int32 qweight, qzeros, fp16 scales per group;
    /// g_idx is stored whatever desc_act says (AutoGPTQ QuantLinear registers it as a buffer).
    /// </summary>
    private static WeightFormat Gptq(HfConfig q, ScalarType dense)
    {
        int bits = Bits(q, "bits");
        int group = q.Int("group_size") ?? 128;
        return new WeightFormat
        {
            Kind = WeightFormatKind.Gptq,
            Name = string.Create(CultureInfo.InvariantCulture, $"gptq-int{bits}-g{group}{(q.Bool("desc_act") is true ? "-act" : "")}"),
            DenseType = dense,
            Bits = bits,
            GroupSize = group,
            Symmetric = q.Bool("sym") ?? true,
            ActOrder = q.Bool("desc_act") ?? false,
        };
    }

    /// <summary>AWQ GEMM/GEMV layout: int32 qweight and qzeros, fp16 scales per group; no g_idx.</summary>
    private static WeightFormat Awq(HfConfig q)
    {
        int bits = Bits(q, "bits", "w_bit");
        int group = q.Int("group_size") ?? q.Int("q_group_size") ?? 128;
        // AWQ kernels run in fp16; AutoAWQ saves the unquantized tensors in fp16 as well.
        return new WeightFormat { Kind = WeightFormatKind.Awq, Name = $"awq-int{bits}-g{group}", DenseType = ScalarType.F16, Bits = bits, GroupSize = group };
    }

    private static WeightFormat Bitsandbytes(HfConfig q, ScalarType dense)
    {
        if (q.Bool("load_in_8bit") is true)
            return new WeightFormat { Kind = WeightFormatKind.BnbInt8, Name = "llm-int8", DenseType = dense, Bits = 8 };
        if (q.Bool("load_in_4bit") is not true)
            throw new ModelDescriptionException("quantization_config: bitsandbytes without load_in_4bit or load_in_8bit");
        var type = q.String("bnb_4bit_quant_type") ?? "fp4";
        bool dq = q.Bool("bnb_4bit_use_double_quant") ?? false;
        return type switch
        {
            "nf4" => new WeightFormat { Kind = WeightFormatKind.BnbNf4, Name = dq ? "nf4-dq" : "nf4", DenseType = dense, Bits = 4, DoubleQuant = dq },
            "fp4" => new WeightFormat { Kind = WeightFormatKind.BnbFp4, Name = dq ? "fp4-dq" : "fp4", DenseType = dense, Bits = 4, DoubleQuant = dq },
            _ => throw new ModelDescriptionException($"quantization_config.bnb_4bit_quant_type: unknown '{type}' (nf4 or fp4)"),
        };
    }

    /// <summary>
    /// Transformers / vLLM "fp8": per-tensor scales unless <c>weight_block_size</c> is given (DeepSeek-V3,
    /// Qwen3-FP8: [128, 128] blocks with fp32 weight_scale_inv).
    /// </summary>
    private static WeightFormat Fp8(HfConfig q, ScalarType dense)
    {
        var block = q.IntArray("weight_block_size");
        if (block is null)
            return new WeightFormat { Kind = WeightFormatKind.Fp8, Name = "fp8", DenseType = dense, Bits = 8 };
        if (block is not [128, 128])
            throw new ModelDescriptionException($"quantization_config.weight_block_size: only [128, 128] blocks are modelled, got [{string.Join(", ", block)}]");
        return new WeightFormat { Kind = WeightFormatKind.Fp8, Name = "fp8-block", DenseType = dense, Bits = 8, Fp8Scales = Fp8ScaleGranularity.Block128 };
    }

    /// <summary>
    /// llm-compressor's compressed-tensors: the first config group's weight scheme decides. float8 →
    /// FP8 (tensor / channel / 128×128 block strategy); float4 group 16 → NVFP4; int8 with quantized
    /// activations → W8A8, without → W8A16; int4 pack-quantized → GPTQ-like packing without g_idx.
    /// </summary>
    private static WeightFormat CompressedTensors(HfConfig q, ScalarType dense)
    {
        var groups = q.Section("config_groups") ?? throw new ModelDescriptionException("quantization_config.config_groups: missing");
        var first = groups.Root.EnumerateObject().FirstOrDefault();
        if (first.Value.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw new ModelDescriptionException("quantization_config.config_groups: empty");
        var group = new HfConfig(first.Value);
        var w = group.Section("weights") ?? throw new ModelDescriptionException($"quantization_config.config_groups.{first.Name}.weights: missing");
        int bits = w.Int("num_bits") ?? throw new ModelDescriptionException($"quantization_config.config_groups.{first.Name}.weights.num_bits: missing");
        string type = w.String("type") ?? "int";
        string strategy = w.String("strategy") ?? "tensor";
        bool activations = group.Section("input_activations") is not null;
        if (type == "float" && bits == 8)
        {
            var scales = strategy switch
            {
                "tensor" => Fp8ScaleGranularity.PerTensor,
                "channel" => Fp8ScaleGranularity.PerChannel,
                "block" when w.IntArray("block_structure") is [128, 128] => Fp8ScaleGranularity.Block128,
                _ => throw new ModelDescriptionException($"quantization_config: fp8 strategy '{strategy}' is not modelled"),
            };
            return new WeightFormat { Kind = WeightFormatKind.Fp8, Name = $"fp8-{strategy}", DenseType = dense, Bits = 8, Fp8Scales = scales };
        }

        if (type == "float" && bits == 4)
            return new WeightFormat { Kind = WeightFormatKind.Nvfp4, Name = "nvfp4", DenseType = dense, Bits = 4 };
        if (type == "int" && bits == 8)
            return activations
                ? new WeightFormat { Kind = WeightFormatKind.Int8SmoothQuant, Name = "w8a8", DenseType = dense, Bits = 8 }
                : new WeightFormat { Kind = WeightFormatKind.Int8WeightOnly, Name = "w8a16", DenseType = dense, Bits = 8 };
        if (type == "int" && bits is 4 or 2 or 3)
        {
            int size = strategy == "group" ? w.Int("group_size") ?? 128 : -1;
            return new WeightFormat { Kind = WeightFormatKind.Gptq, Name = $"w{bits}a16-g{size}", DenseType = dense, Bits = bits, GroupSize = size, HasGroupIndex = false };
        }

        throw new ModelDescriptionException($"quantization_config: compressed-tensors {type}{bits} weights are not modelled");
    }

    /// <summary>gpt-oss keeps attention, router, embeddings and lm_head unquantized (modules_to_not_convert).</summary>
    private static bool ExpertsOnly(HfConfig q) =>
        q.StringArray("modules_to_not_convert") is { } skip && skip.Any(s => s.Contains("self_attn", StringComparison.Ordinal));

    private static int Bits(HfConfig q, params string[] keys)
    {
        int bits = q.FirstInt(keys) ?? 4;
        return bits is 2 or 3 or 4 or 8 ? bits : throw new ModelDescriptionException($"quantization_config.{keys[0]}: {bits}-bit is not supported (2, 3, 4 or 8)");
    }
}
