namespace Streams.Raft.Storage.FileLog;

/// <summary>What <see cref="LogRecovery"/> rebuilt from a directory.</summary>
internal sealed class RecoveredLog
{
    /// <summary>The snapshot, or null when none was ever kept.</summary>
    public Snapshot? Snapshot { get; set; }

    /// <summary>The log generation: the snapshot's (0 without a snapshot).</summary>
    public long Generation { get; set; }

    /// <summary>The live entries after the snapshot, consecutive from its index + 1.</summary>
    public List<Entry> Entries { get; } = [];

    /// <summary>The last hard state written.</summary>
    public HardState HardState { get; set; }

    /// <summary>The segments of the generation, oldest first; may be empty for a new directory.</summary>
    public List<LogSegment> Segments { get; } = [];

    /// <summary>A sequence number above every segment file seen.</summary>
    public long NextSequence { get; set; } = 1;

    /// <summary>The segment whose torn tail was cut, if any.</summary>
    public string? TruncatedFile { get; set; }

    /// <summary>How many bytes were cut.</summary>
    public long TruncatedBytes { get; set; }

    /// <summary>The names of the files deleted.</summary>
    public List<string> DeletedFiles { get; } = [];
}
