using Streams.Raft.Membership;
using Streams.Raft.Storage;

namespace Streams.Raft.Core;

/// <summary>Membership changes, one node at a time (thesis §4.1–4.2).</summary>
public sealed partial class RaftNode
{
    /// <summary>The membership in force: that of the last configuration entry in the log, committed or not.</summary>
    public ConfState ConfState => throw new NotImplementedException();

    /// <summary>Proposes a single-node membership change (stub).</summary>
    /// <param name="change">The change.</param>
    public ProposeResult ProposeConfChange(ConfChange change) => throw new NotImplementedException();

    /// <summary>The metadata of a snapshot of the state machine at an applied index (stub).</summary>
    /// <param name="index">An index in [FirstIndex - 1, AppliedIndex].</param>
    public SnapshotMetadata SnapshotMetadataAt(long index) => throw new NotImplementedException();
}
