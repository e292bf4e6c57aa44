using VramFit.Errors;
using VramFit.Sources.HfConfig;

namespace VramFit.Models;

/// <summary>
/// Resolves what users type for a model — a catalog id, a config.json path, or a folder holding one —
/// into a description. The one place the CLI and the web page turn a model name into a model.
/// </summary>
public static class ModelLookup
{
    public const string Help = "A catalog id (see 'vramfit models'), a config.json, or a folder holding one";

    public static ModelDescription Resolve(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new VramFitException("no model given");
        if (File.Exists(spec))
            return HfConfigReader.ReadFile(spec);
        if (Directory.Exists(spec))
        {
            var config = Path.Combine(spec, "config.json");
            return File.Exists(config)
                ? HfConfigReader.ReadFile(config)
                : throw new VramFitException($"{spec}: folder has no config.json");
        }

        return ModelCatalog.Find(spec).Describe();
    }
}
