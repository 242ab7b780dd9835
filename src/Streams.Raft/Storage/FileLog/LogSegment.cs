namespace Streams.Raft.Storage.FileLog;

/// <summary>A segment file of the current log generation, as the log tracks it.</summary>
/// <param name="sequence">The segment's number: its file name, and its order among segments.</param>
/// <param name="path">The segment file.</param>
internal sealed class LogSegment(long sequence, string path)
{
    /// <summary>The segment's number.</summary>
    public long Sequence { get; } = sequence;

    /// <summary>The segment file.</summary>
    public string Path { get; } = path;

    /// <summary>The end of its last frame: where the next frame goes.</summary>
    public long Size { get; set; }

    /// <summary>
    /// The highest index of any entry record ever written to it, live or since overwritten (0 for
    /// none). Once a snapshot reaches it, nothing in the file matters any more.
    /// </summary>
    public long MaxEntryIndex { get; private set; }

    /// <summary>Notes entries written to the segment.</summary>
    public void Wrote(IReadOnlyList<Entry> entries)
    {
        if (entries.Count > 0)
        {
            MaxEntryIndex = Math.Max(MaxEntryIndex, entries[^1].Index);
        }
    }

    /// <summary>Notes an entry found in the segment by recovery.</summary>
    public void Wrote(long index) => MaxEntryIndex = Math.Max(MaxEntryIndex, index);
}
