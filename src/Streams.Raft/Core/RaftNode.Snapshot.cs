using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tracker;

namespace Streams.Raft.Core;

/// <summary>Snapshots (§7): sending them in pieces, receiving and installing them.</summary>
public sealed partial class RaftNode
{
    // The snapshot a follower is receiving, kept in memory until its last piece arrives; a crash
    // loses it and the leader starts over from the first piece.
    private SnapshotMetadata? _incomingMetadata;
    private byte[]? _incomingData;
    private long _incomingReceived;

    /// <summary>
    /// The metadata for a snapshot of the state machine taken after applying every entry up to
    /// <paramref name="index"/>: the entry's term and the membership as of it. The host builds a
    /// <see cref="Snapshot"/> from it and its state machine's bytes, then compacts its storage.
    /// </summary>
    /// <param name="index">An applied index still in the log: in [FirstIndex - 1, AppliedIndex].</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is not applied, or already compacted.</exception>
    public SnapshotMetadata SnapshotMetadataAt(long index)
    {
        if (index > _log.Applied || !_log.TryTerm(index, out var term))
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), $"A snapshot can be taken at an applied index still in the log, [{_log.FirstIndex - 1}, {_log.Applied}]; {index} is not.");
        }

        return new SnapshotMetadata(index, term, _log.ConfStateAt(index));
    }

    /// <summary>Starts sending the latest snapshot to a follower that needs compacted entries.</summary>
    private bool SendSnapshot(long to, Progress progress)
    {
        if (!progress.RecentActive && _config.CheckQuorum)
        {
            // Do not stream a whole snapshot at a follower that has not answered lately.
            return false;
        }

        if (_log.Snapshot is not { } snapshot)
        {
            return false;
        }

        progress.BecomeSnapshot(snapshot);
        SendSnapshotChunks(to, progress);
        return true;
    }

    /// <summary>Sends the next pieces of the follower's snapshot, as many as the in-flight window allows.</summary>
    private void SendSnapshotChunks(long to, Progress progress)
    {
        var snapshot = progress.PendingSnapshot!;
        var total = snapshot.Data.Length;
        long window = (long)_config.SnapshotChunkBytes * _config.MaxSnapshotChunksInFlight;
        while (!progress.SnapshotLastSent && progress.SnapshotSent - progress.SnapshotAcked < Math.Max(window, 1))
        {
            var offset = progress.SnapshotSent;
            var length = (int)Math.Min(_config.SnapshotChunkBytes, total - offset);
            Send(new Message
            {
                Type = MessageType.Snapshot,
                From = Id,
                To = to,
                Term = Term,
                Index = snapshot.Metadata.Index,
                LogTerm = snapshot.Metadata.Term,
                Commit = _log.Committed,
                Chunk = new SnapshotChunk(snapshot.Metadata, total, offset, snapshot.Data.Slice((int)offset, length)),
            });
            progress.OnSnapshotChunkSent(offset + length);
            if (length == 0)
            {
                break;
            }
        }
    }

    private void HandleSnapshotResponse(Message m, Progress progress)
    {
        if (progress.State != ProgressState.Snapshot || progress.PendingSnapshot!.Metadata.Index != m.Index || progress.PendingSnapshot.Metadata.Term != m.LogTerm)
        {
            return;
        }

        progress.OnSnapshotAcknowledged(m.ChunkOffset, m.Reject);
        SendSnapshotChunks(m.From, progress);
    }

    /// <summary>Resends pieces to followers whose snapshot made no progress for half an election timeout (lost pieces).</summary>
    private void TickSnapshots()
    {
        foreach (var (id, progress) in _progress)
        {
            if (progress.State == ProgressState.Snapshot && ++progress.SnapshotStalledTicks >= Math.Max(1, _config.ElectionTimeoutTicks / 2))
            {
                progress.RewindSnapshotTo(progress.SnapshotAcked);
                SendSnapshotChunks(id, progress);
            }
        }
    }

    private void HandleSnapshotChunk(Message m)
    {
        var chunk = m.Chunk ?? throw new ArgumentException("A Snapshot message carries no chunk.", nameof(m));
        var metadata = chunk.Metadata;
        if (metadata.Index <= _log.Committed)
        {
            // Everything the snapshot holds is committed here already; say how far we are.
            _incomingMetadata = null;
            _incomingData = null;
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.Committed });
            return;
        }

        if (chunk.Offset == 0 && (_incomingMetadata != metadata || _incomingReceived == 0))
        {
            _incomingMetadata = metadata;
            _incomingData = new byte[chunk.TotalBytes];
            _incomingReceived = 0;
        }

        if (_incomingMetadata != metadata || chunk.Offset > _incomingReceived)
        {
            // A piece that does not follow on (lost or reordered, or we restarted): ask for the
            // bytes after those we hold.
            var held = _incomingMetadata == metadata ? _incomingReceived : 0;
            SendSnapshotResponse(m.From, metadata, held, reject: true);
            return;
        }

        var end = chunk.Offset + chunk.Data.Length;
        if (end > _incomingReceived)
        {
            chunk.Data.Span[(int)(_incomingReceived - chunk.Offset)..].CopyTo(_incomingData.AsSpan((int)_incomingReceived));
            _incomingReceived = end;
        }

        if (_incomingReceived < chunk.TotalBytes)
        {
            SendSnapshotResponse(m.From, metadata, _incomingReceived, reject: false);
            return;
        }

        var snapshot = new Snapshot(metadata, _incomingData!);
        _incomingMetadata = null;
        _incomingData = null;
        _incomingReceived = 0;
        if (_log.MatchTerm(metadata.Index, metadata.Term))
        {
            // Our log already holds the snapshot's last entry, hence everything before it: only
            // the commit index moves, and the entries after it are kept.
            _log.CommitTo(metadata.Index);
        }
        else
        {
            _log.Restore(snapshot);
        }

        // Either way our log matches the leader's up to the snapshot's index.
        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = metadata.Index });
    }

    private void SendSnapshotResponse(long to, SnapshotMetadata metadata, long received, bool reject) =>
        Send(new Message
        {
            Type = MessageType.SnapshotResponse,
            From = Id,
            To = to,
            Term = Term,
            Index = metadata.Index,
            LogTerm = metadata.Term,
            ChunkOffset = received,
            Reject = reject,
        });
}
