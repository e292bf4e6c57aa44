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
        ["llama"] = HfFamilies.Llama,
        ["mistral"] = HfFamilies.Llama,
    };

    /// <summary>Every supported model_type, sorted.</summary>
    public static IReadOnlyList<string> SupportedModelTypes => Families.Keys.Order(StringComparer.Ordinal).ToList();

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

    public static ModelDescription Read(HfConfig config, string? name = null, string? source = null)
    {
        var type = config.ModelType;
        if (!Families.TryGetValue(type, out var translate))
            throw new UnsupportedArchitectureException(type, SupportedModelTypes);
        var model = translate(config);
        return model.WithName(name ?? model.Name, source);
    }
}
