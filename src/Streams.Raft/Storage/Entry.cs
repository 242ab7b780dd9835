namespace Streams.Raft.Storage;

/// <summary>
/// One entry of the replicated log: its position (<see cref="Index"/>), the term of the leader
/// that created it (<see cref="Term"/>) and an opaque payload. Immutable once created.
/// </summary>
public sealed class Entry
{
    /// <summary>Fixed per-entry overhead counted by <see cref="SizeBytes"/> (term and index).</summary>
    public const int HeaderSizeBytes = 16;

    /// <summary>Creates an entry.</summary>
    /// <param name="term">The term of the leader that created the entry; at least 1.</param>
    /// <param name="index">The position in the log; at least 1.</param>
    /// <param name="data">The payload; empty for a leader's no-op entry. Not copied: do not mutate it afterwards.</param>
    /// <param name="type">What the payload is.</param>
    public Entry(long term, long index, ReadOnlyMemory<byte> data, EntryType type = EntryType.Normal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(term, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        Term = term;
        Index = index;
        Data = data;
        Type = type;
    }

    /// <summary>What the payload is: application data or a membership change.</summary>
    public EntryType Type { get; }

    /// <summary>The term of the leader that created the entry.</summary>
    public long Term { get; }

    /// <summary>The position of the entry in the log (the first entry is 1).</summary>
    public long Index { get; }

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The size used for byte limits: payload plus <see cref="HeaderSizeBytes"/>.</summary>
    public long SizeBytes => Data.Length + HeaderSizeBytes;

    /// <summary>True when term, index, type and payload bytes are equal.</summary>
    /// <param name="other">The entry to compare with.</param>
    public bool ContentEquals(Entry other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Term == other.Term && Index == other.Index && Type == other.Type && Data.Span.SequenceEqual(other.Data.Span);
    }

    /// <inheritdoc/>
    public override string ToString() => Type == EntryType.Normal ? $"{Index}@{Term}({Data.Length}B)" : $"{Index}@{Term}({Type})";
}
