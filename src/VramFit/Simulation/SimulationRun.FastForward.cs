using VramFit.Performance;

namespace VramFit.Simulation;

internal sealed partial class SimulationRun
{
    /// <summary>
    /// Runs a stretch of pure-decode iterations in a tight loop: while nothing is waiting, every running request
    /// decodes in the cohort, none finishes, no request arrives and the pool has blocks, every iteration is
    /// "each running sequence computes one token and samples the next". The iterations are still priced one by
    /// one with the same <see cref="StepShape"/> as the general path, from the cohort's aggregates, so the result
    /// is identical to stepping, only faster. Returns false (and changes nothing) when the next iteration is not
    /// such a step.
    /// </summary>
    private bool TryFastForward()
    {
        if (_waiting.Count > 0 || _oneByOne.Count > 0 || _cohort.Count == 0 || _cohort.Count > _o.MaxNumBatchedTokens)
            return false;

        // the iteration in which the first member finishes goes through the general path
        long limit = _cohort.StepsUntilFirstFinish - 1;
        long steps = 0;
        while (steps < limit)
        {
            int fresh = _cohort.BlocksDue;
            if (fresh > _totalBlocks - _usedBlocks)
                break;
            _usedBlocks += fresh;
            var shape = new StepShape(0, 0, 0, _cohort.Count, _cohort.ContextTokens);
            Advance(_model.StepSeconds(shape), _cohort.Count);
            _cohort.Step();
            steps++;
            if (MoreArrivals && NextArrivalTime <= _now)
                break;
        }

        return steps > 0;
    }
}
