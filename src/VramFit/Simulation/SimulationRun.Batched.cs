using VramFit.Performance;

namespace VramFit.Simulation;

internal sealed partial class SimulationRun
{
    /// <summary>
    /// Request-level batching (static and dynamic): a batch is formed from the waiting queue, padded to its
    /// longest prompt and longest output as HF <c>generate</c> pads a batch, run to the end of the longest
    /// request, and only then is the next batch formed. KV is reserved up front for the padded length of every
    /// member (no paging), so a batch holds at most what the pool fits.
    /// </summary>
    public void RunBatched()
    {
        int maxBatch = _o.MaxNumSeqs;
        while (_finished < _n)
        {
            AdmitArrivals();
            if (_waiting.Count == 0)
            {
                if (!MoreArrivals)
                    break;
                IdleUntil(NextArrivalTime);
                continue;
            }

            bool full = _waiting.Count >= maxBatch || !MoreArrivals;
            if (!full)
            {
                if (_o.Policy == BatchingPolicy.Static)
                {
                    IdleUntil(NextArrivalTime);
                    continue;
                }

                double deadline = _arrival[_waiting.PeekFront()] + _o.BatchWindowSeconds;
                if (_now < deadline)
                {
                    IdleUntil(Math.Min(deadline, NextArrivalTime));
                    continue;
                }
            }

            RunOneBatch(maxBatch);
        }
    }

    private void RunOneBatch(int maxBatch)
    {
        // take requests in arrival order while the padded reservation fits the pool
        int count = 0, maxPrompt = 0, maxOutput = 0;
        while (count < maxBatch && count < _waiting.Count)
        {
            int id = _waiting[count];
            int p = Math.Max(maxPrompt, _prompt[id]), o = Math.Max(maxOutput, _output[id]);
            if ((count + 1) * BlocksFor((long)p + o) > _totalBlocks)
                break;
            maxPrompt = p;
            maxOutput = o;
            count++;
        }

        var batch = new int[count];
        for (int k = 0; k < count; k++)
        {
            batch[k] = _waiting.PopFront();
            _state[batch[k]] = State.Running;
            _firstScheduled[batch[k]] = _now;
        }

        _usedBlocks = count * BlocksFor((long)maxPrompt + maxOutput);
        var prefill = new StepShape(count, (long)count * maxPrompt, count * StepShape.CausalPairs(0, maxPrompt), 0, 0);
        Advance(_model.StepSeconds(prefill), count);
        foreach (int id in batch)
        {
            _firstToken[id] = _now;
            _generated[id] = 1;
            if (_o.Policy == BatchingPolicy.Dynamic && _output[id] == 1)
                _finish[id] = _now;
        }

        for (int step = 1; step < maxOutput; step++)
        {
            Advance(_model.StepSeconds(StepShape.Decode(count, maxPrompt + step)), count);
            if (_o.Policy != BatchingPolicy.Dynamic)
                continue;
            foreach (int id in batch)
                if (_output[id] == step + 1)
                    _finish[id] = _now;
        }

        _usedBlocks = 0;
        foreach (int id in batch)
        {
            double finish = _o.Policy == BatchingPolicy.Dynamic ? _finish[id] : _now;
            double end = _now;
            _now = finish;
            Complete(id);
            _now = end;
        }
    }
}
