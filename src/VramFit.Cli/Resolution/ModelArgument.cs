using VramFit.Errors;
using VramFit.Models;
using VramFit.Sources.HfConfig;

namespace VramFit.Cli.Resolution;

/// <summary>Turns the &lt;model&gt; argument of a command into a model description.</summary>
internal static class ModelArgument
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
