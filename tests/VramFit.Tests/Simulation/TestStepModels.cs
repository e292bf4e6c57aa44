using VramFit.Performance;

namespace VramFit.Tests.Simulation;

/// <summary>A step-time model simple enough to solve by hand: fixed cost + per prefill token + per decode sequence.</summary>
internal sealed class LinearStepModel(double fixedSeconds, double perPrefillToken, double perDecodeSequence) : IStepTimeModel
{
    public double StepSeconds(in StepShape shape) =>
        fixedSeconds + perPrefillToken * shape.PrefillTokens + perDecodeSequence * shape.DecodeSequences;
}

/// <summary>A step-time model that prices every field of the shape, so any difference in a step's shape moves the clock.</summary>
internal sealed class ShapeSensitiveStepModel : IStepTimeModel
{
    public double StepSeconds(in StepShape shape) =>
        0.005 + 1e-4 * shape.PrefillSequences + 2e-5 * shape.PrefillTokens + 1e-11 * shape.PrefillAttentionPairs
        + 3e-4 * shape.DecodeSequences + 1e-8 * shape.DecodeContextTokens;
}
