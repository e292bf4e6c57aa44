using VramFit.Errors;
using VramFit.Models;

namespace VramFit.Sources.HfConfig;

/// <summary>
/// Translates a Hugging Face <c>config.json</c> into a <see cref="ModelDescription"/>. One translator per
/// <c>model_type</c> family, registered in <see cref="Families"/>; an unknown type gives an error naming
/// the supported ones.
/// </summary>
public static class HfConfigReader
{
    private static readonly Dictionary<string, Func<HfConfig, ModelDescription>> Families = new(StringComparer.Ordinal)
    {
        ["llama"] = HfLlamaFamilies.Llama,
        ["mistral"] = HfLlamaFamilies.Llama,
        ["mixtral"] = HfLlamaFamilies.Mixtral,
        ["qwen2"] = HfLlamaFamilies.Qwen2,
        ["qwen2_moe"] = HfLlamaFamilies.QwenMoE,
        ["qwen3"] = HfLlamaFamilies.Qwen3,
        ["qwen3_moe"] = HfLlamaFamilies.QwenMoE,
        ["qwen3_next"] = HfHybridFamilies.Qwen3Next,
        ["qwen2_vl"] = HfVisionFamilies.Qwen2Vl,
        ["qwen2_5_vl"] = HfVisionFamilies.Qwen2Vl,
        ["qwen3_vl"] = HfVisionFamilies.Qwen3Vl,
        ["qwen3_vl_moe"] = HfVisionFamilies.Qwen3Vl,
        ["mistral3"] = HfVisionFamilies.Mistral3,
        ["phi3"] = HfLlamaFamilies.Phi3,
        ["olmo2"] = HfLlamaFamilies.Olmo2,
        ["gemma"] = HfGemmaCohereFamilies.Gemma,
        ["gemma2"] = HfGemmaCohereFamilies.Gemma2,
        ["gemma3"] = HfGemmaCohereFamilies.Gemma3,
        ["gemma3_text"] = HfGemmaCohereFamilies.Gemma3,
        ["cohere"] = HfGemmaCohereFamilies.Cohere,
        ["cohere2"] = HfGemmaCohereFamilies.Cohere2,
        ["deepseek_v2"] = HfMoEFamilies.DeepSeek,
        ["deepseek_v3"] = HfMoEFamilies.DeepSeek,
        ["gpt_oss"] = HfMoEFamilies.GptOss,
        ["gpt2"] = HfClassicFamilies.Gpt2,
        ["gpt_bigcode"] = HfClassicFamilies.GptBigCode,
        ["opt"] = HfClassicFamilies.Opt,
        ["phi"] = HfClassicFamilies.Phi,
        ["gpt_neox"] = HfClassicFamilies.GptNeoX,
        ["falcon"] = HfClassicFamilies.Falcon,
        ["starcoder2"] = HfClassicFamilies.StarCoder2,
        ["jamba"] = HfHybridFamilies.Jamba,
    };

    /// <summary>Every supported model_type, sorted.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = Families.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads a config.json file.</summary>
    public static ModelDescription ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VramFitException($"{path}: {e.Message}", e);
        }

        return Read(HfConfig.Parse(text, path), Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? path, path);
    }

    /// <summary>Translates config.json text.</summary>
    public static ModelDescription Parse(string json, string? name = null, string? source = null) =>
        Read(HfConfig.Parse(json, source), name, source);

    /// <summary>Translates a parsed config; unknown model_type → <see cref="UnsupportedArchitectureException"/>.</summary>
    public static ModelDescription Read(HfConfig config, string? name = null, string? source = null)
    {
        var type = config.ModelType;
        if (!Families.TryGetValue(type, out var translate))
            throw new UnsupportedArchitectureException(type, SupportedModelTypes);
        var model = translate(config);
        return model.WithName(name ?? model.Name, source);
    }
}
