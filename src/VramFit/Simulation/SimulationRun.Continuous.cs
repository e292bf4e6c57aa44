using VramFit.Performance;

namespace VramFit.Simulation;

internal sealed partial class SimulationRun
{
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
    public void RunContinuous()
    {
        _schedIds = new int[_running.Length];
        _schedTokens = new int[_running.Length];
        while (_finished < _n)
        {
            AdmitArrivals();
            if (_runCount == 0 && _waiting.Count == 0)
            {
                if (!MoreArrivals)
                    break;
                IdleUntil(NextArrivalTime);
                continue;
            }

            if (TryFastForward())
                continue;
            double extra = 0;
            int scheduled = ScheduleIteration(ref extra);
            if (scheduled == 0)
            {
                // the only running request was preempted for want of a block: its release may let the cached
                // prefix be evicted, so schedule again before concluding anything
                if (_preemptedThisIteration && (_runCount > 0 || _waiting.Count == 0 || FitsAlone(_waiting.PeekFront())))
                {
                    if (extra > 0)
                        Advance(extra, 0);   // the swap-out still took its time
                    continue;
                }

                // nothing fits even in an empty batch (blocks held by swapped-out requests' prefix): give up on it
                if (_runCount == 0 && _waiting.Count > 0)
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

            int prefillSeqs = 0, decodeSeqs = 0;
            long prefillTokens = 0, decodeContext = 0;
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
            Advance(_model.StepSeconds(shape) + extra, _runCount);
            FinishIteration(scheduled);
        }
    }

    private int ScheduleIteration(ref double extraSeconds)
    {
        int budget = _o.MaxNumBatchedTokens;
        int count = 0;
        bool preempted = false;
        _preemptedThisIteration = false;
        for (int i = 0; i < _runCount && budget > 0; i++)
        {
            int id = _running[i];
            int need = _prompt[id] + _generated[id] - _computed[id];
            int n = _o.ChunkedPrefill ? Math.Min(need, budget) : need <= budget ? need : 0;
            if (n == 0)
                continue;
            bool self = false;
            while (!TryGrow(id, _computed[id] + n))
            {
                int victim = _running[--_runCount];
                Preempt(victim, ref extraSeconds);
                preempted = _preemptedThisIteration = true;
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

        while (!preempted && budget > 0 && _waiting.Count > 0 && _runCount < _o.MaxNumSeqs)
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
            _running[_runCount++] = id;
            _schedIds[count] = id;
            _schedTokens[count++] = n;
            budget -= n;
        }

        return count;
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
        bool anyDone = false;
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
                    _usedBlocks -= _ownBlocks[id];
                    _ownBlocks[id] = 0;
                    ReleaseShared(id);
                    Complete(id);
                    anyDone = true;
                }
            }
        }

        if (!anyDone)
            return;
        int w = 0;
        for (int i = 0; i < _runCount; i++)
            if (_state[_running[i]] == State.Running)
                _running[w++] = _running[i];
        _runCount = w;
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
