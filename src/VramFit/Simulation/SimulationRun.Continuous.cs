using VramFit.Performance;

namespace VramFit.Simulation;

internal sealed partial class SimulationRun
{
    // the running batch in admission order
    private LinkedIdList _running = null!;
    private int[] _schedIds = [];
    private bool _preemptedThisIteration;
    private int[] _schedTokens = [];

    /// <summary>
    /// Iteration-level scheduling in the shape of vLLM's V1 scheduler (vllm/v1/core/sched/scheduler.py): each
    /// request owes prompt + generated − computed tokens; running requests are served first in admission order,
    /// then waiting ones while the token budget, max_num_seqs and free blocks allow. When a running request
    /// cannot get a block, the most recently admitted running request is preempted, and no new request is
    /// admitted in that iteration.
    /// </summary>
    /// <remarks>
    /// Requests that only decode are kept in a <see cref="DecodeCohort"/>, so an iteration costs O(requests that
    /// change) rather than O(batch). When the whole batch gets what it owes (the budget and the free blocks
    /// cover everyone), the order of service cannot matter and the cohort is served as a whole; otherwise the
    /// cohort is unfolded into per-request state and the iteration goes through the per-request scheduler.
    /// <see cref="SchedulerOptions.StepByStep"/> keeps every request out of the cohort (the reference for tests).
    /// </remarks>
    public void RunContinuous()
    {
        _running = new LinkedIdList(_n);
        _oneByOne = new LinkedIdList(_n);
        _cohort = new DecodeCohort(_n, _blockSize);
        int most = Math.Min(_o.MaxNumSeqs, _n) + 1;
        _schedIds = new int[most];
        _schedTokens = new int[most];
        while (_finished < _n)
        {
            AdmitArrivals();
            if (_running.Count == 0 && _waiting.Count == 0)
            {
                if (!MoreArrivals)
                    break;
                IdleUntil(NextArrivalTime);
                continue;
            }

            if (TryFastForward())
                continue;
            double extra = 0;
            if (!TryScheduleWholeBatch(ref extra, out int scheduled))
            {
                UnfoldCohort();
                scheduled = ScheduleIteration(ref extra);
            }

            int decoding = _cohort.Count;
            if (scheduled == 0 && decoding == 0)
            {
                // the only running request was preempted for want of a block: its release may let the cached
                // prefix be evicted, so schedule again before concluding anything
                if (_preemptedThisIteration && (_running.Count > 0 || _waiting.Count == 0 || FitsAlone(_waiting.PeekFront())))
                {
                    if (extra > 0)
                        Advance(extra, 0);   // the swap-out still took its time
                    continue;
                }

                // nothing fits even in an empty batch (blocks held by swapped-out requests' prefix): give up on it
                if (_running.Count == 0 && _waiting.Count > 0)
                {
                    int id = _waiting.PopFront();
                    ReleaseShared(id);
                    _state[id] = State.Rejected;
                    _finished++;
                    if (_closedLoopArrivals is not null)
                        Issue(_now);
                    continue;
                }

                throw new InvalidOperationException("continuous scheduler made no progress with requests running");
            }

            int prefillSeqs = 0, decodeSeqs = decoding;
            long prefillTokens = 0, decodeContext = decoding > 0 ? _cohort.ContextTokens : 0;
            double pairs = 0;
            for (int k = 0; k < scheduled; k++)
            {
                int id = _schedIds[k], n = _schedTokens[k];
                if (n > 1 || _computed[id] < _prompt[id])
                {
                    prefillSeqs++;
                    prefillTokens += n;
                    pairs += StepShape.CausalPairs(_computed[id], n);
                }
                else
                {
                    decodeSeqs++;
                    decodeContext += _computed[id] + 1;
                }
            }

            var shape = new StepShape(prefillSeqs, prefillTokens, pairs, decodeSeqs, decodeContext);
            Advance(_model.StepSeconds(shape) + extra, _running.Count);
            StepCohort();
            FinishIteration(scheduled);
        }
    }

    /// <summary>The per-request scheduler: running requests in admission order, then waiting ones.</summary>
    private int ScheduleIteration(ref double extraSeconds)
    {
        int budget = _o.MaxNumBatchedTokens;
        int count = 0;
        _preemptedThisIteration = false;
        for (int id = _running.First; id >= 0 && budget > 0; id = _running.Next(id))
        {
            int need = _prompt[id] + _generated[id] - _computed[id];
            int n = _o.ChunkedPrefill ? Math.Min(need, budget) : need <= budget ? need : 0;
            if (n == 0)
                continue;
            bool self = false;
            while (!TryGrow(id, _computed[id] + n))
            {
                int victim = _running.Last;
                Preempt(victim, ref extraSeconds);
                _preemptedThisIteration = true;
                if (victim == id)
                {
                    self = true;
                    break;
                }
            }

            if (self)
                break;
            _schedIds[count] = id;
            _schedTokens[count++] = n;
            budget -= n;
        }

        if (!_preemptedThisIteration)
            AdmitWaiting(ref budget, ref count, ref extraSeconds);
        return count;
    }

    /// <summary>Admits waiting requests (swapped-out ones first, as they sit at the front) while the budget,
    /// max_num_seqs and the free blocks allow.</summary>
    private void AdmitWaiting(ref int budget, ref int count, ref double extraSeconds)
    {
        while (budget > 0 && _waiting.Count > 0 && _running.Count < _o.MaxNumSeqs)
        {
            int id = _waiting.PeekFront();
            bool swapped = _state[id] == State.Swapped, hit = false;
            if (swapped)
            {
                if (_totalBlocks - _usedBlocks < _ownBlocks[id])
                    break;
            }
            else if (_computed[id] == 0 && _prefixBlocks[id] > 0 && _residentPrefixBlocks > 0)
            {
                _sharedBlocks[id] = Math.Min(_prefixBlocks[id], _residentPrefixBlocks);
                _computed[id] = _sharedBlocks[id] * _blockSize;
                _prefixRefs++;
                _refsByLength[_sharedBlocks[id]]++;
                hit = true;
            }

            int need = _prompt[id] + _generated[id] - _computed[id];
            int n = _o.ChunkedPrefill ? Math.Min(need, budget) : need <= budget ? need : 0;
            if (swapped)
                _usedBlocks += _ownBlocks[id];
            if (n == 0 || !TryGrow(id, _computed[id] + n))
            {
                if (swapped)
                    _usedBlocks -= _ownBlocks[id];
                else if (hit)
                {
                    _computed[id] = 0;
                    ReleaseShared(id);
                }
                break;
            }

            _waiting.PopFront();
            if (swapped)
                extraSeconds += SwapSeconds(_ownBlocks[id]);
            else if (hit)
                _prefixHitTokens += (long)_sharedBlocks[id] * _blockSize;
            _state[id] = State.Running;
            if (double.IsNaN(_firstScheduled[id]))
                _firstScheduled[id] = _now;
            _running.AddLast(id);
            _oneByOne.AddLast(id);
            _schedIds[count] = id;
            _schedTokens[count++] = n;
            budget -= n;
        }
    }

    /// <summary>Gives <paramref name="id"/> blocks for <paramref name="tokens"/> tokens, evicting the cached prefix
    /// when no running request uses it; false when the pool is full.</summary>
    private bool TryGrow(int id, long tokens)
    {
        long needed = BlocksFor(tokens) - _sharedBlocks[id] - _ownBlocks[id];
        if (needed <= 0)
            return true;
        if (_totalBlocks - _usedBlocks < needed && _residentPrefixBlocks > LongestReferencedPrefix())
        {
            // evict the cached prefix blocks no request uses (vLLM frees cached blocks with no references first)
            int keep = LongestReferencedPrefix();
            _usedBlocks -= _residentPrefixBlocks - keep;
            _residentPrefixBlocks = keep;
        }

        if (_totalBlocks - _usedBlocks < needed)
            return false;
        _usedBlocks += needed;
        _ownBlocks[id] += (int)needed;
        return true;
    }

    /// <summary>Whether <paramref name="id"/> would run to completion alone next to the prefix blocks that other
    /// (swapped-out) requests pin; otherwise retrying after its own preemption would repeat forever.</summary>
    private bool FitsAlone(int id)
    {
        long own = BlocksFor((long)_prompt[id] + _output[id]) - Math.Min(_prefixBlocks[id], _residentPrefixBlocks);
        return own + _residentPrefixBlocks <= _totalBlocks;
    }

    /// <summary>Cached prefix blocks some running or swapped-out request still uses.</summary>
    private int LongestReferencedPrefix()
    {
        if (_prefixRefs == 0)
            return 0;
        for (int b = Math.Min(_residentPrefixBlocks, _refsByLength.Length - 1); b > 0; b--)
            if (_refsByLength[b] > 0)
                return b;
        return 0;
    }

    private void Preempt(int id, ref double extraSeconds)
    {
        _running.Remove(id);
        _oneByOne.Remove(id);
        _preemptions++;
        _usedBlocks -= _ownBlocks[id];
        if (_o.Preemption == PreemptionMode.Swap)
        {
            extraSeconds += SwapSeconds(_ownBlocks[id]);
            _state[id] = State.Swapped;
        }
        else
        {
            _ownBlocks[id] = 0;
            ReleaseShared(id);
            _computed[id] = 0;
            _state[id] = State.Waiting;
        }

        _waiting.PushFront(id);
    }

    private void ReleaseShared(int id)
    {
        if (_sharedBlocks[id] > 0)
        {
            _prefixRefs--;
            _refsByLength[_sharedBlocks[id]]--;
            _sharedBlocks[id] = 0;
        }
    }

    private double SwapSeconds(int blocks) => blocks * (double)_blockSize * _o.KvBytesPerToken / (_o.SwapGBps * 1e9);

    private void FinishIteration(int scheduled)
    {
        for (int k = 0; k < scheduled; k++)
        {
            int id = _schedIds[k];
            if (_state[id] != State.Running)
                continue;
            _computed[id] += _schedTokens[k];
            if (_sharedBlocks[id] < _prefixBlocks[id] && _computed[id] >= _prefixBlocks[id] * _blockSize)
                PublishPrefix(id);
            if (_computed[id] == _prompt[id] + _generated[id])
            {
                _generated[id]++;
                if (_generated[id] == 1)
                    _firstToken[id] = _now;
                if (_generated[id] >= _output[id])
                {
                    _oneByOne.Remove(id);
                    CompleteRunning(id);
                }
                else if (!_o.StepByStep)
                    JoinCohort(id);
            }
        }
    }

    /// <summary>A running request has sampled its last token: its blocks return to the pool.</summary>
    private void CompleteRunning(int id)
    {
        _running.Remove(id);
        _usedBlocks -= _ownBlocks[id];
        _ownBlocks[id] = 0;
        ReleaseShared(id);
        Complete(id);
    }

    /// <summary>
    /// The request has computed its shared prefix: its prefix blocks become the cache's (counted once in the
    /// pool), any duplicate of blocks already cached is freed, and it holds a reference until it leaves.
    /// </summary>
    private void PublishPrefix(int id)
    {
        int prefix = _prefixBlocks[id], shared = _sharedBlocks[id];
        int owned = prefix - shared;
        _ownBlocks[id] -= owned;
        _usedBlocks -= owned;
        if (prefix > _residentPrefixBlocks)
        {
            _usedBlocks += prefix - _residentPrefixBlocks;
            _residentPrefixBlocks = prefix;
        }

        if (shared == 0)
            _prefixRefs++;
        else
            _refsByLength[shared]--;
        _refsByLength[prefix]++;
        _sharedBlocks[id] = prefix;
    }
}
