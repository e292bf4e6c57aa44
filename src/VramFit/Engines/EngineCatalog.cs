using VramFit.Errors;

namespace VramFit.Engines;

/// <summary>The engine models known to the library, by id.</summary>
public static class EngineCatalog
{
    private static readonly List<IEngineModel> Registered = [];

    /// <summary>Every registered engine model.</summary>
    public static IReadOnlyList<IEngineModel> All
    {
        get
        {
            EnsureBuiltIns();
            return Registered;
        }
    }

    public static IEngineModel Get(string id)
    {
        var key = (id ?? "").Trim().ToLowerInvariant();
        foreach (var e in All)
            if (e.Id == key || Aliases(e.Id).Contains(key))
                return e;
        throw new InvalidSettingException("engine", $"unknown engine '{id}'; known: {string.Join(", ", All.Select(e => e.Id))}");
    }

    private static IEnumerable<string> Aliases(string id) => id switch
    {
        "llama.cpp" => ["llamacpp", "llama-cpp", "ollama", "lmstudio"],
        "transformers" => ["hf", "pytorch", "huggingface"],
        "tensorrt-llm" => ["trtllm", "tensorrt", "trt-llm"],
        _ => [],
    };

    private static void EnsureBuiltIns()
    {
        lock (Registered)
        {
            if (Registered.Count > 0)
                return;
            Registered.AddRange(BuiltInEngines.Create());
        }
    }
}
