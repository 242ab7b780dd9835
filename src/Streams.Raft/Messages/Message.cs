using Streams.Raft.Storage;

namespace Streams.Raft.Messages;

/// <summary>
/// A message between two nodes of one Raft group. One record for every kind, discriminated by
/// <see cref="Type"/> (as etcd/raft does): the meaning of <see cref="Index"/>,
/// <see cref="LogTerm"/> and <see cref="RejectHint"/> per kind is documented on
/// <see cref="MessageType"/>. Fields a kind does not use are zero/empty.
/// </summary>
public sealed record Message
{
    /// <summary>The kind of message.</summary>
    public required MessageType Type { get; init; }

    /// <summary>The sending node.</summary>
    public required long From { get; init; }

    /// <summary>The receiving node.</summary>
    public required long To { get; init; }

    /// <summary>The sender's term (for a pre-vote, the term it would campaign in).</summary>
    public required long Term { get; init; }

    /// <summary>A log term: prevLogTerm, the candidate's last term, or a rejection's hint term.</summary>
    public long LogTerm { get; init; }

    /// <summary>A log index: prevLogIndex, the candidate's last index, or an acknowledged index.</summary>
    public long Index { get; init; }

    /// <summary>The entries carried by an <see cref="MessageType.Append"/>.</summary>
    public IReadOnlyList<Entry> Entries { get; init; } = [];

    /// <summary>The leader's commit index (Append, Heartbeat).</summary>
    public long Commit { get; init; }

    /// <summary>True when a vote, pre-vote or append is refused.</summary>
    public bool Reject { get; init; }

    /// <summary>For a rejected Append: the index the leader should probe from (fast backtracking).</summary>
    public long RejectHint { get; init; }

    /// <summary>
    /// On a <see cref="MessageType.Vote"/>: the election is a leadership transfer started by the
    /// leader (thesis §3.10), so voters in a check-quorum lease still answer it.
    /// </summary>
    public bool Transfer { get; init; }

    /// <summary>A read's request context (Heartbeat, HeartbeatResponse, ReadIndex, ReadIndexResponse).</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>A piece of a snapshot (<see cref="MessageType.Snapshot"/>).</summary>
    public SnapshotChunk? Chunk { get; init; }

    /// <summary>
    /// On a <see cref="MessageType.SnapshotResponse"/>: how many bytes of the snapshot the follower
    /// holds in order, which is where the leader sends from next.
    /// </summary>
    public long ChunkOffset { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Type} {From}->{To} t{Term} i{Index} lt{LogTerm} c{Commit} n{Entries.Count}{(Transfer ? " transfer" : string.Empty)}{(Context.IsEmpty ? string.Empty : $" ctx{Context.Length}")}{(Chunk is null ? string.Empty : $" chunk {Chunk.Metadata.Index}@{Chunk.Metadata.Term} [{Chunk.Offset}+{Chunk.Data.Length}/{Chunk.TotalBytes}]")}{(Type == MessageType.SnapshotResponse ? $" got {ChunkOffset}" : string.Empty)}{(Reject ? $" reject(hint {RejectHint})" : string.Empty)}";
}
