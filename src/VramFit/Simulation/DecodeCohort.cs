namespace VramFit.Simulation;

/// <summary>
/// The running requests that are purely decoding, advanced lazily. Each iteration every member computes one
/// token and samples the next, so a member's computed length is its length at joining plus the steps taken
/// since: the cohort keeps one offset per member and a shared step counter instead of touching every member
/// every iteration. What an iteration needs from all members is kept as aggregates, each O(1) to read:
/// the attended context (Σ computed + 1), the members whose next token opens a new KV block (counted by
/// offset modulo the block size), and the members whose last token is due (a priority queue by finishing
/// step). Joining and finishing cost O(log members); everything else is O(1) per iteration.
/// </summary>
/// <remarks>
/// A member holds exactly ⌈computed / block size⌉ blocks (its own plus cached-prefix ones), so its next token
/// needs a new block exactly when computed is a multiple of the block size; the simulator checks this when a
/// request joins.
/// </remarks>
internal sealed class DecodeCohort
{
    private readonly int _blockSize;

    // per request id: computed tokens minus the step counter at joining, and the step after which its last
    // token has been sampled (0: not a member)
    private readonly long[] _offset;
    private readonly long[] _finishStep;

    // members by offset modulo the block size
    private readonly int[] _byResidue;
    private readonly PriorityQueue<int, long> _finishing = new();
    private long _offsetSum;

    // the residue whose members' computed length is a multiple of the block size now: (−Steps) mod block size
    private int _dueResidue;

    /// <summary>A cohort for request ids 0 … <paramref name="ids"/> − 1 over blocks of <paramref name="blockSize"/> tokens.</summary>
    public DecodeCohort(int ids, int blockSize)
    {
        _blockSize = blockSize;
        _offset = new long[ids];
        _finishStep = new long[ids];
        _byResidue = new int[blockSize];
    }

    /// <summary>Decode steps taken so far (each advances every member by one token).</summary>
    public long Steps { get; private set; }

    public int Count { get; private set; }

    /// <summary>Tokens the members attend to in the next step: Σ (computed + 1).</summary>
    public long ContextTokens => _offsetSum + Count * (Steps + 1);

    /// <summary>Members whose next token starts a new KV block (their computed length is a multiple of the block size).</summary>
    public int BlocksDue => _byResidue[_dueResidue];

    /// <summary>Steps from now until the first member samples its last token; <see cref="long.MaxValue"/> when empty.</summary>
    public long StepsUntilFirstFinish => TryPeekFirst(out _, out long step) ? step - Steps : long.MaxValue;

    public bool Contains(int id) => _finishStep[id] != 0;

    /// <summary>Computed tokens of member <paramref name="id"/> now.</summary>
    public long Computed(int id) => _offset[id] + Steps;

    /// <summary>Adds <paramref name="id"/>, which has computed <paramref name="computed"/> tokens and will finish
    /// after <paramref name="tokensLeft"/> more decode steps.</summary>
    public void Join(int id, long computed, int tokensLeft)
    {
        if (Contains(id))
            throw new InvalidOperationException($"request {id} already decodes in the cohort");
        if (tokensLeft < 1)
            throw new ArgumentOutOfRangeException(nameof(tokensLeft), tokensLeft, "a member has at least one token left");
        long offset = computed - Steps;
        _offset[id] = offset;
        _finishStep[id] = Steps + tokensLeft;
        _finishing.Enqueue(id, Steps + tokensLeft);
        _byResidue[Residue(offset)]++;
        _offsetSum += offset;
        Count++;
    }

    /// <summary>Removes <paramref name="id"/> (its state must be read with <see cref="Computed"/> first).</summary>
    public void Leave(int id)
    {
        if (!Contains(id))
            throw new InvalidOperationException($"request {id} is not in the cohort");
        _finishStep[id] = 0;
        _byResidue[Residue(_offset[id])]--;
        _offsetSum -= _offset[id];
        Count--;
        if (Count == 0)
            _finishing.Clear();   // only entries of members that left remain
    }

    /// <summary>Every member computes one token and samples the next.</summary>
    public void Step()
    {
        Steps++;
        _dueResidue = _dueResidue == 0 ? _blockSize - 1 : _dueResidue - 1;
    }

    /// <summary>A member whose last token was sampled in the step just taken, if any is left; it stays a member
    /// until <see cref="Leave"/>.</summary>
    public bool TryPeekFinished(out int id) => TryPeekFirst(out id, out long step) && step <= Steps;

    private bool TryPeekFirst(out int id, out long step)
    {
        while (_finishing.TryPeek(out id, out step))
        {
            if (_finishStep[id] == step)
                return true;
            _finishing.Dequeue();   // an entry of a member that has left
        }

        return false;
    }

    private int Residue(long offset) => (int)(((offset % _blockSize) + _blockSize) % _blockSize);
}
