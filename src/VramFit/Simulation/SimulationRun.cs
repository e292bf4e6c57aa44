using System.Collections.Immutable;
using VramFit.Performance;

namespace VramFit.Simulation;

/// <summary>
/// The state of one simulation: per-request arrays (structure of arrays, no per-request objects), the waiting
/// queue, the running batch, the block pool and the arrival source. The policies live in the partial files
/// <c>SimulationRun.Continuous.cs</c> (with its decode cohort in <c>SimulationRun.Cohort.cs</c> and
/// <c>SimulationRun.FastForward.cs</c>) and <c>SimulationRun.Batched.cs</c>.
/// </summary>
internal sealed partial class SimulationRun
{
    private enum State : byte { Pending, Waiting, Running, Swapped, Done, Rejected }

    private readonly IStepTimeModel _model;
    private readonly SchedulerOptions _o;
    private readonly IProgress<double>? _progress;
    private readonly CancellationToken _cancel;
    private readonly int _n;
    private readonly int _blockSize;

    // per request
    private readonly double[] _arrival;
    private readonly int[] _prompt;
    private readonly int[] _output;
    private readonly double[]? _think;
    private readonly int[] _computed;
    private readonly int[] _generated;
    private readonly int[] _ownBlocks;
    private readonly int[] _sharedBlocks;
    private readonly int[] _prefixBlocks;
    private readonly double[] _firstScheduled;
    private readonly double[] _firstToken;
    private readonly double[] _finish;
    private readonly State[] _state;

    // queues
    private readonly IntDeque _waiting;
    private readonly PriorityQueue<int, (double Time, int Id)>? _closedLoopArrivals;
    private int _nextOpenArrival;
    private int _nextIssued;

    // KV pool
    private readonly long _totalBlocks;
    private long _usedBlocks;
    private int _residentPrefixBlocks;
    private int _prefixRefs;

    // referencing requests by the number of cached prefix blocks they use: blocks beyond the longest use are evictable
    private readonly int[] _refsByLength;

    // counters and series
    private double _now;
    private int _finished;
    private long _iterations;
    private long _preemptions;
    private long _prefixHitTokens;
    private double _peakKv;
    private double _kvTimeIntegral;
    private double _batchTimeIntegral;
    private readonly TimeSeriesRecorder _kvSeries = new();
    private readonly TimeSeriesRecorder _batchSeries = new();

    public SimulationRun(IStepTimeModel model, SchedulerOptions options, RequestPlan plan, IProgress<double>? progress, CancellationToken cancel)
    {
        _model = model;
        _o = options;
        _progress = progress;
        _cancel = cancel;
        _n = plan.Count;
        _blockSize = options.BlockSize;
        _totalBlocks = options.TotalBlocks;
        _arrival = (double[])plan.Arrival.Clone();
        _prompt = plan.PromptTokens;
        _output = plan.OutputTokens;
        _think = plan.ThinkSeconds;
        _computed = new int[_n];
        _generated = new int[_n];
        _ownBlocks = new int[_n];
        _sharedBlocks = new int[_n];
        _prefixBlocks = new int[_n];
        _firstScheduled = new double[_n];
        _firstToken = new double[_n];
        _finish = new double[_n];
        _state = new State[_n];
        _waiting = new IntDeque(Math.Min(_n, 1 << 16));
        int longestPrefix = 0;
        if (options.PrefixCaching)
        {
            // the shared part of a prompt, whole blocks only, and never the whole prompt: the last prompt token
            // is always computed to produce logits (vLLM V1 KVCacheManager caps hits at num_tokens − 1)
            for (int i = 0; i < _n; i++)
            {
                _prefixBlocks[i] = (int)Math.Min(Math.Floor(options.SharedPrefixRatio * _prompt[i]) / _blockSize, (_prompt[i] - 1) / _blockSize);
                longestPrefix = Math.Max(longestPrefix, _prefixBlocks[i]);
            }
        }

        _refsByLength = new int[longestPrefix + 1];

        if (plan.IsClosedLoop)
        {
            _closedLoopArrivals = new PriorityQueue<int, (double, int)>();
            int users = Math.Min(_n, Math.Max(1, plan.Users));
            for (int u = 0; u < users; u++)
                Issue(0);
        }
    }

    private bool MoreArrivals => _closedLoopArrivals is null ? _nextOpenArrival < _n : _closedLoopArrivals.Count > 0;

    private double NextArrivalTime => _closedLoopArrivals is null
        ? _arrival[_nextOpenArrival]
        : _closedLoopArrivals.TryPeek(out _, out var p) ? p.Time : double.PositiveInfinity;

    /// <summary>A closed-loop user sends the next request <paramref name="after"/> plus its think time.</summary>
    private void Issue(double after)
    {
        if (_nextIssued >= _n)
            return;
        int id = _nextIssued++;
        _arrival[id] = after + _think![id];
        _closedLoopArrivals!.Enqueue(id, (_arrival[id], id));
    }

    /// <summary>Moves every request that has arrived by now into the waiting queue, rejecting impossible ones.</summary>
    private void AdmitArrivals()
    {
        while (MoreArrivals && NextArrivalTime <= _now)
        {
            int id = _closedLoopArrivals is null ? _nextOpenArrival++ : _closedLoopArrivals.Dequeue();
            if (!CanEverRun(id))
            {
                _state[id] = State.Rejected;
                _finished++;
                _finish[id] = double.NaN;
                if (_closedLoopArrivals is not null)
                    Issue(_now);
                continue;
            }

            _state[id] = State.Waiting;
            _firstScheduled[id] = double.NaN;
            _waiting.PushBack(id);
        }
    }

    private bool CanEverRun(int id)
    {
        long tokens = (long)_prompt[id] + _output[id];
        if (BlocksFor(tokens) > _totalBlocks)
            return false;
        // without chunking a prompt (or a recompute of prompt + output) must fit one iteration's budget, which
        // is why vLLM requires max_num_batched_tokens ≥ max_model_len when chunked prefill is off
        return _o.Policy != BatchingPolicy.Continuous || _o.ChunkedPrefill || tokens <= _o.MaxNumBatchedTokens;
    }

    private long BlocksFor(long tokens) => (tokens + _blockSize - 1) / _blockSize;

    private void Complete(int id)
    {
        _state[id] = State.Done;
        _finish[id] = _now;
        _finished++;
        if (_closedLoopArrivals is not null)
            Issue(_now);
    }

    /// <summary>Advances the clock by one iteration that held <paramref name="batch"/> sequences.</summary>
    private void Advance(double seconds, int batch)
    {
        if (_usedBlocks < 0 || _usedBlocks > _totalBlocks)
            throw new InvalidOperationException($"KV pool accounting broken: {_usedBlocks} of {_totalBlocks} blocks in use");
        if (!(seconds >= 0) || double.IsInfinity(seconds))
            throw new InvalidOperationException($"step time model returned {seconds} s");
        double kv = (double)_usedBlocks / _totalBlocks;
        _peakKv = Math.Max(_peakKv, kv);
        _kvTimeIntegral += kv * seconds;
        _batchTimeIntegral += batch * seconds;
        _now += seconds;
        _kvSeries.Add(_now, kv);
        _batchSeries.Add(_now, batch);
        _iterations++;
        if ((_iterations & 4095) == 0)
        {
            _cancel.ThrowIfCancellationRequested();
            _progress?.Report((double)_finished / _n);
        }
    }

    /// <summary>Jumps over idle time to the next arrival (the pool and batch are recorded as they are, usually empty).</summary>
    private void IdleUntil(double time)
    {
        if (time <= _now)
            return;
        double kv = (double)_usedBlocks / _totalBlocks;
        _kvTimeIntegral += kv * (time - _now);
        _now = time;
        _kvSeries.Add(_now, kv);
        _batchSeries.Add(_now, 0);
    }

    public SimulationResult Result()
    {
        _progress?.Report(1);
        var ttft = new List<double>(_n);
        var tpot = new List<double>(_n);
        var e2e = new List<double>(_n);
        var queue = new List<double>(_n);
        long outTokens = 0, allTokens = 0;
        int completed = 0, rejected = 0;
        double end = 0;
        for (int i = 0; i < _n; i++)
        {
            if (_state[i] == State.Rejected)
            {
                rejected++;
                continue;
            }

            completed++;
            end = Math.Max(end, _finish[i]);
            ttft.Add(_firstToken[i] - _arrival[i]);
            e2e.Add(_finish[i] - _arrival[i]);
            queue.Add(_firstScheduled[i] - _arrival[i]);
            if (_output[i] > 1)
                tpot.Add((_finish[i] - _firstToken[i]) / (_output[i] - 1));
            outTokens += _output[i];
            allTokens += _output[i] + (long)_prompt[i];
        }

        ttft.Sort();
        tpot.Sort();
        e2e.Sort();
        queue.Sort();
        double duration = Math.Max(end, _now);
        double Per(double x) => duration > 0 ? x / duration : 0;
        return new SimulationResult
        {
            Policy = _o.Policy,
            Requests = _n,
            Completed = completed,
            Rejected = rejected,
            DurationSeconds = duration,
            RequestsPerSecond = Per(completed),
            OutputTokensPerSecond = Per(outTokens),
            TotalTokensPerSecond = Per(allTokens),
            Ttft = LatencyStats.FromSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ttft)),
            Tpot = LatencyStats.FromSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tpot)),
            EndToEnd = LatencyStats.FromSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(e2e)),
            Queueing = LatencyStats.FromSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(queue)),
            Preemptions = _preemptions,
            Iterations = _iterations,
            PrefixCacheHitTokens = _prefixHitTokens,
            PeakKvUtilization = _peakKv,
            MeanKvUtilization = duration > 0 ? _kvTimeIntegral / duration : 0,
            MeanBatchSize = duration > 0 ? _batchTimeIntegral / duration : 0,
            KvUtilization = _kvSeries.ToPoints(),
            BatchSize = _batchSeries.ToPoints(),
            EndToEndCdf = Cdf(e2e),
            TtftCdf = Cdf(ttft),
        };
    }

    private static ImmutableArray<double> Cdf(List<double> sorted)
    {
        if (sorted.Count == 0)
            return [];
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sorted);
        var points = new double[101];
        for (int p = 0; p <= 100; p++)
            points[p] = p == 0 ? span[0] : LatencyStats.Percentile(span, p);
        return [.. points];
    }
}
