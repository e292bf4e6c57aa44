namespace VramFit.Engines;

/// <summary>The engine models shipped with the library; each engine folder contributes one line.</summary>
internal static class BuiltInEngines
{
    public static IEnumerable<IEngineModel> Create() =>
    [
        new Transformers.TransformersEngine(),
        new RuleOfThumb.RuleOfThumbEngine(),
        new Vllm.VllmEngine(),
        new Sglang.SglangEngine(),
        new TensorRtLlm.TensorRtLlmEngine(),
        new Tgi.TgiEngine(),
        new LlamaCpp.LlamaCppEngine(),
        new LlamaCpp.LlamaCppEngine(ikLlama: true),
    ];
}
