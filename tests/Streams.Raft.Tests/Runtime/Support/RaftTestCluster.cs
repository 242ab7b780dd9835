using System.Text;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Raft.Transport;

namespace Streams.Raft.Tests.Runtime.Support;

/// <summary>
/// Nodes 1..n hosting the same groups, over real loopback gRPC or an in-memory network. Each
/// node's <see cref="MemoryRaftLog"/>s stand for its disk and survive a restart; its state
/// machines do not (they are rebuilt from the snapshot and the log).
/// </summary>
internal sealed class RaftTestCluster : IAsyncDisposable
{
    private readonly bool _overRpc;
    private readonly Func<long, RaftGroupOptions> _groupOptions;
    private readonly RaftHostOptions _hostOptions;
    private readonly Dictionary<(long Node, long Group), MemoryRaftLog> _storages = [];
    private readonly Dictionary<long, RaftTestNode> _nodes = [];

    private RaftTestCluster(bool overRpc, long[] nodeIds, long[] groupIds, Func<long, RaftGroupOptions> groupOptions, RaftHostOptions hostOptions)
    {
        _overRpc = overRpc;
        NodeIds = nodeIds;
        GroupIds = groupIds;
        _groupOptions = groupOptions;
        _hostOptions = hostOptions;
    }

    public long[] NodeIds { get; }

    public long[] GroupIds { get; }

    public RaftPeers Peers { get; } = new();

    public InMemoryRaftNetwork Network { get; } = new();

    public IEnumerable<long> RunningNodes => _nodes.Keys;

    /// <summary>Starts <paramref name="nodes"/> nodes, each hosting every group of <paramref name="groupIds"/> with all nodes as voters.</summary>
    public static async Task<RaftTestCluster> StartAsync(bool overRpc, int nodes, long[] groupIds, Func<RaftGroupOptions, RaftGroupOptions>? configure = null, TimeSpan? tickInterval = null)
    {
        var nodeIds = Enumerable.Range(1, nodes).Select(i => (long)i).ToArray();
        RaftGroupOptions Options(long groupId)
        {
            var options = new RaftGroupOptions { GroupId = groupId, Voters = nodeIds };
            return configure is null ? options : configure(options);
        }

        var cluster = new RaftTestCluster(overRpc, nodeIds, groupIds, Options, new RaftHostOptions { TickInterval = tickInterval ?? TimeSpan.FromMilliseconds(20) });
        foreach (var id in nodeIds)
        {
            await cluster.StartNodeAsync(id);
        }

        return cluster;
    }

    public RaftTestNode Node(long nodeId) => _nodes[nodeId];

    public RaftGroup Group(long nodeId, long groupId) =>
        _nodes[nodeId].Host.TryGetGroup(groupId, out var group) ? group : throw new InvalidOperationException($"Node {nodeId} does not host group {groupId}.");

    public ListStateMachine StateMachine(long nodeId, long groupId) => _nodes[nodeId].StateMachines[groupId];

    public MemoryRaftLog Storage(long nodeId, long groupId) => _storages[(nodeId, groupId)];

    /// <summary>Starts (or restarts) a node with its stored logs and fresh state machines; over RPC on a new port.</summary>
    public async Task StartNodeAsync(long nodeId, IEnumerable<long>? groupIds = null, Func<long, RaftGroupOptions>? groupOptions = null)
    {
        var node = _overRpc
            ? await RaftTestNode.StartRpcAsync(nodeId, Peers, _hostOptions, null)
            : RaftTestNode.StartInMemory(nodeId, Network, _hostOptions, null);
        if (node.Address is { } address)
        {
            Peers.Set(nodeId, address);
        }

        _nodes[nodeId] = node;
        foreach (var groupId in groupIds ?? GroupIds)
        {
            if (!_storages.TryGetValue((nodeId, groupId), out var storage))
            {
                storage = _storages[(nodeId, groupId)] = new MemoryRaftLog();
            }

            var stateMachine = new ListStateMachine();
            node.StateMachines[groupId] = stateMachine;
            await node.Host.AddGroupAsync((groupOptions ?? _groupOptions)(groupId), storage, stateMachine);
        }
    }

    /// <summary>Stops a node: its server, its groups and its transport (its logs are kept).</summary>
    public async Task StopNodeAsync(long nodeId)
    {
        var node = _nodes[nodeId];
        _nodes.Remove(nodeId);
        if (!_overRpc)
        {
            Network.Detach(nodeId);
        }

        await node.DisposeAsync();
    }

    /// <summary>The leader of a group once one running node leads it and the others agree (or know none better).</summary>
    public async Task<long> WaitForLeaderAsync(long groupId, TimeSpan? timeout = null)
    {
        long leader = 0;
        await Eventually.TrueAsync(
            () =>
            {
                var statuses = _nodes.Keys.Select(id => Group(id, groupId).Status).ToArray();
                var leaders = statuses.Where(s => s.IsLeader).ToArray();
                if (leaders.Length != 1)
                {
                    return false;
                }

                leader = leaders[0].NodeId;
                var term = leaders[0].Term;
                return statuses.All(s => s.Leader == leader && s.Term == term);
            },
            $"group {groupId} has one leader all running nodes follow",
            timeout);
        return leader;
    }

    /// <summary>Proposes at the leader, retrying on leadership changes; returns the index.</summary>
    public async Task<long> ProposeAsync(long groupId, string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Eventually.DefaultTimeout);
        while (true)
        {
            var leader = await WaitForLeaderAsync(groupId, timeout);
            try
            {
                return await Group(leader, groupId).ProposeAsync(Encoding.UTF8.GetBytes(text), CancellationToken.None);
            }
            catch (Exception ex) when (ex is NotLeaderException or ProposalDroppedException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Waits until every running node's state machine of the group holds exactly <paramref name="expected"/>.</summary>
    public Task WaitForAppliedAsync(long groupId, IReadOnlyList<string> expected, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(
            () => _nodes.Keys.All(id => StateMachine(id, groupId).Texts.SequenceEqual(expected)),
            $"every running node applied [{string.Join(", ", expected)}] to group {groupId}",
            timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var nodeId in _nodes.Keys.ToArray())
        {
            await StopNodeAsync(nodeId);
        }
    }
}
