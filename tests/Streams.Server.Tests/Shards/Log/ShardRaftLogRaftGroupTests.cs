using System.Buffers;
using Streams.Raft.Messages;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Raft.Transport;
using Streams.Server.Shards.Log;
using Streams.Storage.Batches;
using Streams.Storage.Segments;
using static Streams.Server.Tests.Shards.Log.ShardLogTestEntries;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>The shard log under the real Raft runtime: three nodes in memory, each with its own segment log.</summary>
public sealed class ShardRaftLogRaftGroupTests
{
    private static readonly RaftHostOptions _fastTicks = new() { TickInterval = TimeSpan.FromMilliseconds(10) };

    [Fact]
    public async Task Every_replicas_segment_log_holds_the_same_batches_and_a_follower_left_behind_catches_up_by_snapshot()
    {
        using var dirs = new TempDirectory();
        var network = new InMemoryRaftNetwork();
        var nodes = new List<Node>();
        try
        {
            for (var id = 1L; id <= 3; id++)
            {
                nodes.Add(await Node.StartAsync(id, dirs.Combine($"node-{id}"), network));
            }

            var leader = await WaitForLeaderAsync(nodes);
            var random = new Random(11);
            for (var i = 0; i < 30; i++)
            {
                await leader.Group.ProposeAsync(RecordBatch(0, 0, 2, 1_700_000_000_000 + i, random), CancellationToken.None);
            }

            await WaitForAsync(() => nodes.All(n => n.Group.Status.AppliedIndex == leader.Group.Status.LastIndex), "every replica applies everything");
            AssertSameBatches(nodes);

            // A follower cut off while the leader writes on and compacts: it needs a snapshot.
            var follower = nodes.First(n => n != leader);
            network.Isolate(follower.Id);
            for (var i = 0; i < 40; i++)
            {
                await leader.Group.ProposeAsync(RecordBatch(0, 0, 1, 1_700_000_100_000 + i, random), CancellationToken.None);
            }

            await WaitForAsync(() => leader.Log.FirstIndex > follower.Log.LastIndex + 1, "the leader compacts past the follower");
            network.Heal(follower.Id);
            await WaitForAsync(() => follower.Group.Status.AppliedIndex == leader.Group.Status.LastIndex, "the follower catches up");
            Assert.NotNull(follower.Log.Snapshot);
            Assert.True(follower.StateMachine.Restored > 0);
            Assert.True(follower.Log.Segments.FirstIndex > 31, $"the follower's log restarted after the snapshot (it starts at {follower.Log.Segments.FirstIndex})");
            AssertSameBatches(nodes);

            // Reopened, the follower's log says the same.
            var last = follower.Log.LastIndex;
            var firstIndex = follower.Log.FirstIndex;
            nodes.Remove(follower);
            await follower.DisposeAsync();
            await using var reopened = await ShardRaftLog.OpenAsync(Options(dirs.Combine($"node-{follower.Id}"), DurabilityPolicy.Always));
            Assert.Equal(last, reopened.LastIndex);
            Assert.Equal(firstIndex, reopened.FirstIndex);
            Assert.Equal(leader.Log.Term(last), reopened.Term(last));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>Every index that two replicas both hold in their segment logs is the same batch, at its index.</summary>
    private static void AssertSameBatches(List<Node> nodes)
    {
        var first = nodes.Max(n => n.Log.Segments.FirstIndex);
        var last = nodes.Min(n => n.Log.Segments.LastIndex);
        Assert.True(last >= first);
        byte[]? reference = null;
        foreach (var node in nodes)
        {
            var buffer = new ArrayBufferWriter<byte>();
            var read = node.Log.Segments.Read(first, long.MaxValue, buffer);
            Assert.True(read.BatchCount >= last - first + 1);
            var span = buffer.WrittenSpan;
            var end = 0;
            for (var index = first; index <= last; index++)
            {
                var header = BatchHeader.Read(span[end..]);
                Assert.Equal(index, header.Index);
                Assert.Null(BatchHeader.Validate(span.Slice(end, header.Length)));
                end += header.Length;
            }

            var batches = span[..end].ToArray();
            if (reference is null)
            {
                reference = batches;
            }
            else
            {
                Assert.Equal(reference, batches);
            }
        }
    }

    private static async Task<Node> WaitForLeaderAsync(List<Node> nodes)
    {
        Node? leader = null;
        await WaitForAsync(
            () =>
            {
                leader = nodes.FirstOrDefault(n => n.Group.Status.IsLeader);
                return leader is not null && leader.Group.Status.AppliedIndex >= 1;
            },
            "a leader is elected and applies its no-op");
        return leader!;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    private sealed class Node : IAsyncDisposable
    {
        private Node(long id, RaftHost host, ShardRaftLog log, RaftGroup group, CountingStateMachine stateMachine)
        {
            Id = id;
            Host = host;
            Log = log;
            Group = group;
            StateMachine = stateMachine;
        }

        public long Id { get; }

        public RaftHost Host { get; }

        public ShardRaftLog Log { get; }

        public RaftGroup Group { get; }

        public CountingStateMachine StateMachine { get; }

        public static async Task<Node> StartAsync(long id, string directory, InMemoryRaftNetwork network)
        {
            var relay = new Relay();
            var host = new RaftHost(id, network.Attach(id, relay), _fastTicks);
            relay.Target = host;
            var log = await ShardRaftLog.OpenAsync(Options(directory, DurabilityPolicy.Always));
            var stateMachine = new CountingStateMachine();
            var group = await host.AddGroupAsync(new RaftGroupOptions { GroupId = 1, Voters = [1, 2, 3], SnapshotEveryEntries = 10 }, log, stateMachine);
            return new Node(id, host, log, group, stateMachine);
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await Log.DisposeAsync();
        }
    }

    /// <summary>The network needs a handler before the host that handles exists.</summary>
    private sealed class Relay : IRaftMessageHandler
    {
        public RaftHost? Target { get; set; }

        public void Deliver(long groupId, Message message) => Target?.Deliver(groupId, message);
    }

    /// <summary>Counts what it applies; its snapshot is that count.</summary>
    private sealed class CountingStateMachine : IStateMachine
    {
        private long _applied;

        public int Restored { get; private set; }

        public ValueTask ApplyAsync(IReadOnlyList<Entry> committed, CancellationToken cancellationToken)
        {
            _applied = committed[^1].Index;
            return ValueTask.CompletedTask;
        }

        public ValueTask<ReadOnlyMemory<byte>> SnapshotAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<ReadOnlyMemory<byte>>(BitConverter.GetBytes(_applied));

        public ValueTask RestoreAsync(Snapshot snapshot, CancellationToken cancellationToken)
        {
            _applied = snapshot.Metadata.Index;
            Restored++;
            return ValueTask.CompletedTask;
        }
    }
}
