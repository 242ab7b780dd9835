using Streams.Raft.Storage;

namespace Streams.Server.Shards.Log;

/// <summary>Retention: deleting old segments without taking from Raft what no snapshot covers.</summary>
public sealed partial class ShardRaftLog
{
    /// <summary>
    /// Deletes the oldest segments whose newest record is older than
    /// <see cref="ShardRaftLogOptions.Retention"/> and whose entries are all at or below
    /// <paramref name="appliedIndex"/>; never the active segment (an idle shard's last segment
    /// stays until it rolls). When that would take from Raft entries the held snapshot does not
    /// cover, a snapshot at the last deleted index is kept first, with the content
    /// <paramref name="snapshotAt"/> gives and the term the log knows: afterwards Raft's
    /// <see cref="FirstIndex"/> and the segment log's first index agree.
    /// </summary>
    /// <param name="appliedIndex">The index the state machine has applied: nothing after it is deleted.</param>
    /// <param name="snapshotAt">
    /// The state machine's membership and data as of the index it is given (at most
    /// <paramref name="appliedIndex"/>). Called at most once, while other writes to this log wait:
    /// it must not wait for one of them.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait for other writes and the snapshot's content.</param>
    /// <returns>How many segments were deleted.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="appliedIndex"/> is beyond the last index.</exception>
    /// <exception cref="InvalidOperationException">An earlier write failed: reopen the log.</exception>
    public async ValueTask<int> ApplyRetentionAsync(long appliedIndex, Func<long, CancellationToken, ValueTask<SnapshotContent>> snapshotAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshotAt);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfUnusable();
            if (appliedIndex > LastIndex)
            {
                throw new ArgumentOutOfRangeException(nameof(appliedIndex), appliedIndex, Invariant($"The log ends at index {LastIndex}: an applied index cannot be beyond it."));
            }

            var cutoffMs = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.Retention.TotalMilliseconds;
            var segments = Segments.Segments;
            var expired = 0;
            while (expired < segments.Count - 1 && segments[expired].MaxTimestampMs < cutoffMs && segments[expired].LastIndex <= appliedIndex)
            {
                expired++;
            }

            if (expired == 0)
            {
                return 0;
            }

            var through = segments[expired - 1].LastIndex;
            var held = _snapshotIndex;
            if (through > held)
            {
                var content = await snapshotAt(through, cancellationToken)
                    ?? throw new InvalidOperationException(Invariant($"The snapshot callback gave no content for index {through}."));
                var snapshot = new Snapshot(new SnapshotMetadata(through, Term(through), content.ConfState), content.Data);
                try
                {
                    await KeepSnapshotAsync(snapshot);
                }
                catch (Exception e)
                {
                    Fail(e);
                    throw;
                }

                ShardRaftLogLog.RetentionSnapshotTaken(_logger, through, held);
            }

            int deleted;
            try
            {
                deleted = Segments.DeleteBefore(through + 1);
            }
            catch (Exception e)
            {
                Fail(e);
                throw;
            }

            ShardRaftLogLog.RetentionApplied(_logger, deleted, through, Segments.FirstIndex);
            return deleted;
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
