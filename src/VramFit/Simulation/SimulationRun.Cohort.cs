namespace VramFit.Simulation;

/// <summary>
/// Continuous batching's decoders served as a <see cref="DecodeCohort"/>: which running requests are in it,
/// how an iteration is scheduled from its aggregates, and how its members are written back into the
/// per-request arrays when an iteration needs them one by one.
/// </summary>
internal sealed partial class SimulationRun
{
    // the running requests scheduled one by one (prefilling, just admitted, or every one of them when stepping),
    // in admission order; the other running requests decode in the cohort
    private LinkedIdList _oneByOne = null!;
    private DecodeCohort _cohort = null!;

    /// <summary>
    /// Schedules the iteration without looking at the cohort's members one by one, when vLLM's order of service
    /// provably gives every member its one token and every scheduled request its blocks: the budget covers the
    /// cohort, and either covers everyone or the one-by-one requests all come after the cohort (the usual case:
    /// a prompt being chunked was admitted last), and the free blocks cover the result, so nothing is evicted or
    /// preempted. Waiting requests are then admitted as usual. False (and nothing changed) otherwise.
    /// </summary>
    private bool TryScheduleWholeBatch(ref double extraSeconds, out int count)
    {
        count = 0;
        if (_o.StepByStep)
            return false;
        int budget = _o.MaxNumBatchedTokens - _cohort.Count;
        if (budget < 0)
            return false;   // the budget runs out inside the cohort: who decodes depends on the order
        long owed = 0, blocks = _cohort.BlocksDue;
        for (int id = _oneByOne.First; id >= 0; id = _oneByOne.Next(id))
        {
            int need = _prompt[id] + _generated[id] - _computed[id];
            owed += need;
            int n = _o.ChunkedPrefill ? Math.Min(need, budget) : need <= budget ? need : 0;
            if (n == 0)
                continue;
            blocks += Math.Max(0, BlocksFor((long)_computed[id] + n) - _sharedBlocks[id] - _ownBlocks[id]);
            _schedIds[count] = id;
            _schedTokens[count++] = n;
            budget -= n;
        }

        if ((owed > _o.MaxNumBatchedTokens - _cohort.Count && !OneByOneAfterCohort()) || blocks > _totalBlocks - _usedBlocks)
        {
            count = 0;
            return false;
        }

        _preemptedThisIteration = false;
        _usedBlocks += _cohort.BlocksDue;
        for (int k = 0; k < count; k++)
        {
            int id = _schedIds[k];
            if (!TryGrow(id, _computed[id] + _schedTokens[k]))
                throw new InvalidOperationException($"KV pool accounting broken: request {id} got no block although the batch fit");
        }

        AdmitWaiting(ref budget, ref count, ref extraSeconds);
        return true;
    }

    /// <summary>Whether the one-by-one requests are the newest ones of the running batch, so that the per-request
    /// scheduler would serve every cohort member before any of them. O(one-by-one requests).</summary>
    private bool OneByOneAfterCohort()
    {
        int id = _running.Last;
        for (int k = 0; k < _oneByOne.Count; k++, id = _running.Previous(id))
        {
            if (_cohort.Contains(id))
                return false;
        }

        return true;
    }

    /// <summary>The request has sampled a token and owes only the next one: from now on it decodes in the cohort.</summary>
    private void JoinCohort(int id)
    {
        // the cohort counts new blocks from computed lengths, which holds only while a request has exactly the
        // blocks its computed tokens fill (TryGrow, prefix hits, publishing and swapping all keep this)
        if (_ownBlocks[id] + _sharedBlocks[id] != BlocksFor(_computed[id]))
            throw new InvalidOperationException($"KV pool accounting broken: request {id} holds {_ownBlocks[id] + _sharedBlocks[id]} blocks for {_computed[id]} tokens");
        _oneByOne.Remove(id);
        _cohort.Join(id, _computed[id], _output[id] - _generated[id]);
    }

    /// <summary>Writes a member's lazily advanced state back into the per-request arrays and takes it out of the cohort.</summary>
    private void Unfold(int id)
    {
        int steps = (int)(_cohort.Computed(id) - _computed[id]);
        _computed[id] += steps;
        _generated[id] += steps;
        _ownBlocks[id] = (int)(BlocksFor(_computed[id]) - _sharedBlocks[id]);
        _cohort.Leave(id);
    }

    /// <summary>Before a per-request iteration: every running request back to one-by-one, in admission order.</summary>
    private void UnfoldCohort()
    {
        if (_cohort.Count == 0)
            return;
        for (int id = _running.First; id >= 0; id = _running.Next(id))
        {
            if (_cohort.Contains(id))
                Unfold(id);
            else
                _oneByOne.Remove(id);
            _oneByOne.AddLast(id);
        }
    }

    /// <summary>The cohort's members have each computed one token and sampled the next; those at their last token leave.</summary>
    private void StepCohort()
    {
        _cohort.Step();
        while (_cohort.TryPeekFinished(out int id))
        {
            Unfold(id);
            CompleteRunning(id);
        }
    }
}
