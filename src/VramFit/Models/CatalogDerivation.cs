using System.Text.Json;
using System.Text.Json.Nodes;

namespace VramFit.Models;

/// <summary>
/// Finds the catalog model behind a Hub id the catalog does not list by name: a re-upload under another
/// organisation (<c>unsloth/Qwen3-8B</c>, <c>NousResearch/Meta-Llama-3-8B-Instruct</c>), a fine-tune that carries a
/// catalog name (<c>NousResearch/Hermes-3-Llama-3.1-8B</c>), or a quantized checkpoint named after its base (<c>Qwen/Qwen2.5-7B-Instruct-AWQ</c>, <c>unsloth/mistral-7b-instruct-v0.3-bnb-4bit</c>,
/// <c>hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4</c>, <c>RedHatAI/…-FP8-dynamic</c>). The quantization
/// suffix stands for the <c>quantization_config</c> its publishers write; the derived entry carries that
/// config, and its <see cref="CatalogModel.Source"/> says what was assumed, since only the real config.json
/// knows a checkpoint's exceptions (modules kept in 16 bits, another group size).
/// </summary>
internal static class CatalogDerivation
{
    /// <summary>A name ending and the quantization_config its publishers ship with it.</summary>
    private sealed record QuantSuffix(string Ending, string Assumed, Func<string, string> ConfigJson);

    // bitsandbytes uploads by Unsloth: NF4 with double quantization (their quantization_config;
    // "-unsloth-bnb-4bit" dynamic uploads additionally list modules kept in 16 bits, unknown here).
    private const string Nf4 = """{"quant_method":"bitsandbytes","load_in_4bit":true,"bnb_4bit_quant_type":"nf4","bnb_4bit_use_double_quant":true}""";

    // AutoAWQ GEMM export as Qwen and hugging-quants publish it: 4-bit, group 128, zero points.
    private const string Awq = """{"quant_method":"awq","bits":4,"group_size":128,"zero_point":true,"version":"gemm"}""";

    // AutoGPTQ export as Qwen ("-GPTQ-Int4/-Int8") publishes it: group 128, symmetric, no act-order.
    private static string Gptq(int bits) => $$"""{"quant_method":"gptq","bits":{{bits}},"group_size":128,"desc_act":false,"sym":true}""";

    // llm-compressor schemes of RedHatAI/neuralmagic uploads (compressed-tensors config_groups).
    private const string Fp8Dynamic = """{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":8,"type":"float","strategy":"channel"},"input_activations":{"num_bits":8,"type":"float","strategy":"token","dynamic":true}}}}""";
    private const string W4A16 = """{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":4,"type":"int","strategy":"group","group_size":128}}}}""";
    private const string W8A8 = """{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":8,"type":"int","strategy":"channel"},"input_activations":{"num_bits":8,"type":"int","strategy":"token","dynamic":true}}}}""";
    private const string W8A16 = """{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":8,"type":"int","strategy":"channel"}}}}""";

    // Qwen's own "-FP8" checkpoints (and Unsloth's copies) use 128×128 weight blocks; other "-FP8" uploads
    // (AutoFP8, neuralmagic) are per-tensor.
    private static string Fp8(string org) =>
        org.Equals("Qwen", StringComparison.OrdinalIgnoreCase) || org.Equals("unsloth", StringComparison.OrdinalIgnoreCase)
            ? """{"quant_method":"fp8","weight_block_size":[128,128]}"""
            : """{"quant_method":"fp8"}""";

    /// <summary>Tried in order; an ending that ends another comes after it ("-bnb-4bit" after "-unsloth-bnb-4bit").</summary>
    private static readonly QuantSuffix[] Suffixes =
    [
        new("-unsloth-bnb-4bit", "bitsandbytes NF4 with double quantization, every linear layer (Unsloth's dynamic uploads keep some in 16 bits)", _ => Nf4),
        new("-bnb-4bit", "bitsandbytes NF4 with double quantization", _ => Nf4),
        new("-AWQ-INT4", "AWQ 4-bit, group 128", _ => Awq),
        new("-AWQ", "AWQ 4-bit, group 128", _ => Awq),
        new("-GPTQ-Int4", "GPTQ 4-bit, group 128, symmetric, no act-order", _ => Gptq(4)),
        new("-GPTQ-Int8", "GPTQ 8-bit, group 128, symmetric, no act-order", _ => Gptq(8)),
        new("-GPTQ", "GPTQ 4-bit, group 128, symmetric, no act-order", _ => Gptq(4)),
        new("-FP8-dynamic", "FP8 per-channel weights, dynamic per-token activations (compressed-tensors)", _ => Fp8Dynamic),
        new("-quantized.w4a16", "INT4 weights, group 128 (compressed-tensors)", _ => W4A16),
        new("-quantized.w8a8", "INT8 weights and activations (compressed-tensors)", _ => W8A8),
        new("-quantized.w8a16", "INT8 weights (compressed-tensors)", _ => W8A16),
        new("-W4A16", "INT4 weights, group 128 (compressed-tensors)", _ => W4A16),
        new("-W8A8", "INT8 weights and activations (compressed-tensors)", _ => W8A8),
        new("-FP8", "FP8 weights (128×128 blocks for Qwen's own, else per-tensor)", Fp8),
    ];

    /// <summary>
    /// The catalog entry <paramref name="id"/> names, derived as described above; null when no base is found.
    /// <paramref name="find"/> is the catalog's exact lookup, <paramref name="names"/> every catalog name and alias
    /// without its organisation.
    /// </summary>
    public static CatalogModel? Derive(string id, Func<string, CatalogModel?> find, IEnumerable<string> names)
    {
        int slash = id.IndexOf('/', StringComparison.Ordinal);
        string org = slash > 0 ? id[..slash] : "";
        string name = id[(slash + 1)..];
        if (name.Length == 0)
            return null;

        // a re-upload: the same name under another organisation
        if (slash > 0 && find(name) is { } mirror)
            return mirror with { Id = id, Aliases = [], DerivedFrom = mirror.Id, Source = $"{ModelCatalog.DerivedSourcePrefix}{mirror.Id}, the same name under another organisation" };

        var suffix = Suffixes.FirstOrDefault(s => name.Length > s.Ending.Length && name.EndsWith(s.Ending, StringComparison.OrdinalIgnoreCase));
        string baseName = suffix is null ? name : name[..^suffix.Ending.Length];
        var base_ = suffix is null ? null : (slash > 0 ? find(org + "/" + baseName) : null) ?? find(baseName);
        string? fineTuneOf = null;
        if (base_ is null && Contained(baseName, names) is { } contained)
        {
            // a fine-tune or re-release that carries a catalog model's name ("Hermes-3-Llama-3.1-8B",
            // "Skywork-Reward-Llama-3.1-8B-v0.2"): assumed to keep its architecture
            base_ = find(contained);
            fineTuneOf = contained;
        }

        if (base_ is null)
            return null;
        if (suffix is null)
            return base_ with
            {
                Id = id,
                Aliases = [],
                DerivedFrom = base_.Id,
                PublishedParameters = null,
                StoredExtraParameters = 0,
                Source = $"{ModelCatalog.DerivedSourcePrefix}{base_.Id}: \"{name}\" carries the name \"{fineTuneOf}\" and is assumed to keep its architecture",
            };
        if (base_.Config.TryGetProperty("quantization_config", out _) || base_.Config.TryGetProperty("compression_config", out _))
            return null;   // the base is itself quantized: nothing sensible to stack

        var config = JsonNode.Parse(base_.Config.GetRawText())!.AsObject();
        config["quantization_config"] = JsonNode.Parse(suffix.ConfigJson(org));
        return base_ with
        {
            Id = id,
            Aliases = [],
            DerivedFrom = base_.Id,
            Config = JsonDocument.Parse(config.ToJsonString()).RootElement.Clone(),
            PublishedParameters = null,
            StoredExtraParameters = 0,
            Source = $"{ModelCatalog.DerivedSourcePrefix}{base_.Id}{(fineTuneOf is null ? "" : $" (\"{name}\" carries its name)")} with the quantization its name \"{suffix.Ending[1..]}\" stands for, assumed: {suffix.Assumed}",
        };
    }

    /// <summary>
    /// The longest catalog name that <paramref name="name"/> contains between word boundaries (not inside a longer
    /// number or word: "Qwen2.5-7B" is not found in "Qwen2.5-72B"), case-insensitively; names shorter than 6
    /// characters ("gpt2") are too generic to go by.
    /// </summary>
    private static string? Contained(string name, IEnumerable<string> names)
    {
        string? best = null;
        foreach (var candidate in names)
        {
            if (candidate.Length < 6 || (best is not null && candidate.Length <= best.Length))
                continue;
            for (int at = name.IndexOf(candidate, StringComparison.OrdinalIgnoreCase); at >= 0;
                 at = name.IndexOf(candidate, at + 1, StringComparison.OrdinalIgnoreCase))
            {
                int end = at + candidate.Length;
                bool before = at == 0 || !char.IsLetterOrDigit(name[at - 1]);
                bool after = end == name.Length || !(char.IsLetterOrDigit(name[end]) || name[end] == '.');
                if (before && after)
                {
                    best = candidate;
                    break;
                }
            }
        }

        return best;
    }
}
