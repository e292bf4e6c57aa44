using VramFit.Performance;

namespace VramFit.Tests.Simulation;

/// <summary>A step-time model simple enough to solve by hand: fixed cost + per prefill token + per decode sequence.</summary>
internal sealed class LinearStepModel(double fixedSeconds, double perPrefillToken, double perDecodeSequence) : IStepTimeModel
{
    public double StepSeconds(in StepShape shape) =>
        fixedSeconds + perPrefillToken * shape.PrefillTokens + perDecodeSequence * shape.DecodeSequences;
}
