using VramFit.Performance;

namespace VramFit.Simulation;

internal sealed partial class SimulationRun
{
    private int[] _residueCount = [];

    /// <summary>
    /// Runs a stretch of pure-decode iterations in O(1) each instead of O(batch): while nothing is waiting, no
    /// sequence finishes, no request arrives and the pool has blocks, every iteration is "each running sequence
    /// computes one token and samples the next". The iterations are still priced one by one with the same
    /// <see cref="StepShape"/> as the general path, and block allocations are counted per iteration from the
    /// sequences' positions inside their last block, so the result is identical to stepping, only faster.
    /// Returns false (and changes nothing) when the next iteration is not such a step.
    /// </summary>
    private bool TryFastForward()
    {
        if (_o.StepByStep || _waiting.Count > 0 || _runCount == 0 || _runCount > _o.MaxNumBatchedTokens)
            return false;
        int minLeft = int.MaxValue;
        long context = 0;
        if (_residueCount.Length != _blockSize)
            _residueCount = new int[_blockSize];
        else
            Array.Clear(_residueCount);
        for (int i = 0; i < _runCount; i++)
        {
            int id = _running[i];
            if (_prompt[id] + _generated[id] - _computed[id] != 1)
                return false;
            minLeft = Math.Min(minLeft, _output[id] - _generated[id]);
            context += _computed[id] + 1;
            _residueCount[_computed[id] % _blockSize]++;
        }

        // the iteration in which the first sequence finishes goes through the general path
        int limit = minLeft - 1;
        if (limit < 2)
            return false;
        long free = _totalBlocks - _usedBlocks;
        int steps = 0;
        long allocated = 0;
        while (steps < limit)
        {
            // sequence i needs a new block for the token at position computed_i + steps + 1 exactly when
            // (computed_i + steps) is a multiple of the block size
            int fresh = _residueCount[(_blockSize - steps % _blockSize) % _blockSize];
            if (allocated + fresh > free)
                break;
            allocated += fresh;
            _usedBlocks += fresh;
            var shape = new StepShape(0, 0, 0, _runCount, context + (long)steps * _runCount);
            Advance(_model.StepSeconds(shape), _runCount);
            steps++;
            if (MoreArrivals && NextArrivalTime <= _now)
                break;
        }

        if (steps == 0)
            return false;
        for (int i = 0; i < _runCount; i++)
        {
            int id = _running[i];
            _computed[id] += steps;
            _generated[id] += steps;
            _ownBlocks[id] = (int)(BlocksFor(_computed[id]) - _sharedBlocks[id]);
        }

        return true;
    }
}
