namespace VramFit.Simulation;

/// <summary>
/// Request ids in the order they were added, with O(1) removal from anywhere: the running batch in admission
/// order, from which requests leave in the middle (completions) and at the end (preemption victims) every
/// iteration. Links live in arrays indexed by id, so an id is in a list at most once.
/// </summary>
internal sealed class LinkedIdList
{
    private const int None = -1;
    private readonly int[] _next;
    private readonly int[] _previous;
    private readonly bool[] _contains;

    /// <summary>A list for ids 0 … <paramref name="ids"/> − 1.</summary>
    public LinkedIdList(int ids)
    {
        _next = new int[ids];
        _previous = new int[ids];
        _contains = new bool[ids];
    }

    public int Count { get; private set; }

    /// <summary>The oldest id, or −1 when empty.</summary>
    public int First { get; private set; } = None;

    /// <summary>The newest id, or −1 when empty.</summary>
    public int Last { get; private set; } = None;

    /// <summary>The id added after <paramref name="id"/>, or −1 when it is the last.</summary>
    public int Next(int id) => _next[id];

    /// <summary>The id added before <paramref name="id"/>, or −1 when it is the first.</summary>
    public int Previous(int id) => _previous[id];

    public bool Contains(int id) => _contains[id];

    public void AddLast(int id)
    {
        if (_contains[id])
            throw new InvalidOperationException($"request {id} is already in the list");
        _contains[id] = true;
        _next[id] = None;
        _previous[id] = Last;
        if (Last == None)
            First = id;
        else
            _next[Last] = id;
        Last = id;
        Count++;
    }

    public void Remove(int id)
    {
        if (!_contains[id])
            throw new InvalidOperationException($"request {id} is not in the list");
        _contains[id] = false;
        int previous = _previous[id], next = _next[id];
        if (previous == None)
            First = next;
        else
            _next[previous] = next;
        if (next == None)
            Last = previous;
        else
            _previous[next] = previous;
        Count--;
    }
}
