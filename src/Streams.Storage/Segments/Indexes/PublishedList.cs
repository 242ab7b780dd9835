namespace Streams.Storage.Segments.Indexes;

/// <summary>
/// A list with one writer and any number of lock-free readers: an item is stored before the
/// count that makes it visible is published, and a full array is copied, never changed in place,
/// so a reader's <see cref="Snapshot"/> always holds completed items. <see cref="Shrink"/> reuses
/// slots, so it may only run while no reader looks (the log's exclusive range lock).
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class PublishedList<T>
    where T : struct
{
    private T[] _items;
    private int _count;

    /// <summary>Creates an empty list.</summary>
    public PublishedList()
    {
        _items = new T[16];
    }

    /// <summary>Creates a list holding <paramref name="items"/>.</summary>
    public PublishedList(ReadOnlySpan<T> items)
    {
        _items = new T[Math.Max(16, items.Length)];
        items.CopyTo(_items);
        _count = items.Length;
    }

    /// <summary>Items published so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The items published so far.</summary>
    public ReadOnlySpan<T> Snapshot()
    {
        var count = Volatile.Read(ref _count);
        var items = Volatile.Read(ref _items);
        return items.AsSpan(0, count);
    }

    /// <summary>Appends an item (writer only).</summary>
    public void Add(T item)
    {
        var count = _count;
        var items = _items;
        if (count == items.Length)
        {
            var larger = new T[items.Length * 2];
            items.AsSpan().CopyTo(larger);
            Volatile.Write(ref _items, larger);
            items = larger;
        }

        items[count] = item;
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>Keeps the first <paramref name="count"/> items (writer only, with readers excluded).</summary>
    public void Shrink(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _count);
        Volatile.Write(ref _count, count);
    }
}
