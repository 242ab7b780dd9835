using System.Collections.Concurrent;
using Streams.Raft.Runtime;
using Streams.Server.Configuration;
using Streams.Server.Shards.Log;

namespace Streams.Server.Shards;

/// <summary>
/// The shard replicas this node holds, by Raft group: opened (log, state, group) when the
/// controller places a replica here, closed and deleted when it moves away or its stream is
/// deleted. Each replica's data is <c>shards/&lt;group id&gt;</c> under the data directory.
/// </summary>
internal sealed class LocalShards(RaftHost host, string directory, ClusterOptions options, TimeProvider time, ILoggerFactory loggerFactory) : IDisposable
{
    // No periodic snapshots: one would move Raft's first index past entries the segments still
    // hold, and a follower that fell behind it (cut off, or down, for a while) would be sent the
    // snapshot instead of those entries, and drop its own older records for it (found by the fault
    // run: a replica left holding a shard from index 20,003 on). Raft's log is then the whole
    // retained shard, and only retention takes a snapshot (at the records it deletes anyway). The
    // price: a restart replays the retained log to rebuild the producer table.
    private const long SnapshotEveryEntries = 0;

    private readonly ConcurrentDictionary<long, ShardReplica> _replicas = new();
    private readonly SemaphoreSlim _changes = new(1, 1);

    /// <summary>The replicas held now.</summary>
    public ICollection<ShardReplica> All => _replicas.Values;

    /// <summary>The replica of group <paramref name="groupId"/>, if held here.</summary>
    public ShardReplica? Find(long groupId) => _replicas.TryGetValue(groupId, out var replica) ? replica : null;

    /// <summary>
    /// Opens the replica of a shard: its stored state if any, else a new member with
    /// <paramref name="voters"/> (empty for a replica joining a running group).
    /// </summary>
    public async ValueTask<ShardReplica> OpenAsync(ShardIdentity identity, IReadOnlyList<long> voters, int retentionHours, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_replicas.TryGetValue(identity.GroupId, out var existing))
            {
                return existing;
            }

            var log = await ShardRaftLog.OpenAsync(
                new ShardRaftLogOptions
                {
                    Directory = DirectoryOf(identity.GroupId),
                    SegmentSizeBytes = options.SegmentSizeBytes,
                    Durability = options.DurabilityPolicy,
                    Retention = TimeSpan.FromHours(retentionHours),
                },
                time,
                loggerFactory.CreateLogger<ShardRaftLog>(),
                cancellationToken).ConfigureAwait(false);
            try
            {
                var state = new ShardStateMachine();
                var group = await host.AddGroupAsync(
                    new RaftGroupOptions { GroupId = identity.GroupId, Voters = voters, SnapshotEveryEntries = SnapshotEveryEntries },
                    log,
                    state,
                    cancellationToken).ConfigureAwait(false);
                var replica = new ShardReplica(identity, group, log, state);
                _replicas[identity.GroupId] = replica;
                return replica;
            }
            catch
            {
                await log.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Stops a replica's group and closes its log; with <paramref name="deleteData"/>, deletes its files.</summary>
    public async ValueTask CloseAsync(long groupId, bool deleteData)
    {
        await _changes.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_replicas.TryRemove(groupId, out var replica))
            {
                await host.RemoveGroupAsync(groupId).ConfigureAwait(false);
                await replica.Log.DisposeAsync().ConfigureAwait(false);
            }

            var directory = DirectoryOf(groupId);
            if (deleteData && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Closes every replica (the node stops); the data stays.</summary>
    public async ValueTask CloseAllAsync()
    {
        foreach (var groupId in _replicas.Keys.ToArray())
        {
            await CloseAsync(groupId, deleteData: false).ConfigureAwait(false);
        }
    }

    /// <summary>The group ids with data on disk (replicas held before a restart included).</summary>
    public IEnumerable<long> StoredGroupIds()
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.EnumerateDirectories(directory)
            .Select(Path.GetFileName)
            .Select(name => long.TryParse(name, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : 0)
            .Where(id => id > 0);
    }

    /// <inheritdoc/>
    public void Dispose() => _changes.Dispose();

    private string DirectoryOf(long groupId) => Path.Combine(directory, groupId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
