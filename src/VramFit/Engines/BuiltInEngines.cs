namespace VramFit.Engines;

/// <summary>The engine models shipped with the library; each engine folder contributes one line.</summary>
internal static class BuiltInEngines
{
    public static IEnumerable<IEngineModel> Create() =>
    [
        new LlamaCpp.LlamaCppEngine(),
        new LlamaCpp.LlamaCppEngine(ikLlama: true),
    ];
}
