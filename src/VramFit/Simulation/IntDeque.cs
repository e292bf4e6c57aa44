namespace VramFit.Simulation;

/// <summary>A growable ring buffer of request ids: new arrivals at the back, preempted requests back at the front.</summary>
internal sealed class IntDeque
{
    private int[] _items;
    private int _head;

    public IntDeque(int capacity) => _items = new int[Math.Max(4, capacity)];

    public int Count { get; private set; }

    public int PeekFront() => _items[_head];

    public int PopFront()
    {
        int v = _items[_head];
        _head = (_head + 1) % _items.Length;
        Count--;
        return v;
    }

    public void PushBack(int value)
    {
        if (Count == _items.Length)
            Grow();
        _items[(_head + Count) % _items.Length] = value;
        Count++;
    }

    public void PushFront(int value)
    {
        if (Count == _items.Length)
            Grow();
        _head = (_head - 1 + _items.Length) % _items.Length;
        _items[_head] = value;
        Count++;
    }

    /// <summary>The id at position <paramref name="index"/> from the front.</summary>
    public int this[int index] => _items[(_head + index) % _items.Length];

    private void Grow()
    {
        var bigger = new int[_items.Length * 2];
        for (int i = 0; i < Count; i++)
            bigger[i] = _items[(_head + i) % _items.Length];
        _items = bigger;
        _head = 0;
    }
}
