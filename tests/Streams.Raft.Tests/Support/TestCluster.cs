using Streams.Raft.Core;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Support;

/// <summary>
/// A hand-driven cluster for scenario tests: Readies are handled (persist, collect messages,
/// apply) explicitly, and messages are delivered only when a test says so.
/// </summary>
public sealed class TestCluster
{
    private readonly Dictionary<long, RaftNode> _nodes = [];
    private readonly bool _preVote;
    private readonly bool _checkQuorum;
    private readonly Func<long, RaftConfig, RaftConfig>? _configure;

    public TestCluster(int size, bool preVote = false, bool checkQuorum = false, Func<long, RaftConfig, RaftConfig>? configure = null)
    {
        _preVote = preVote;
        _checkQuorum = checkQuorum;
        _configure = configure;
        Ids = Enumerable.Range(1, size).Select(i => (long)i).ToArray();
        foreach (var id in Ids)
        {
            Storages[id] = new MemoryRaftLog();
            Configs[id] = new RaftConfig
            {
                Id = id,
                Voters = Ids,
                ElectionTimeoutTicks = 10,
                HeartbeatTimeoutTicks = 1,
                PreVote = preVote,
                CheckQuorum = checkQuorum,
                // Node i times out after 10 + (i - 1) ticks: node 1 first.
                RandomSource = new FixedRandomSource((int)id - 1),
            };
            if (configure is not null)
            {
                Configs[id] = configure(id, Configs[id]);
            }

            _nodes[id] = new RaftNode(Configs[id], Storages[id]);
        }
    }

    public long[] Ids { get; private set; }

    public Dictionary<long, MemoryRaftLog> Storages { get; } = [];

    public Dictionary<long, RaftConfig> Configs { get; } = [];

    public Dictionary<long, List<Entry>> Applied { get; } = [];

    /// <summary>The snapshots each node installed from a leader (its Ready carried them), in order.</summary>
    public Dictionary<long, List<Snapshot>> Snapshots { get; } = [];

    /// <summary>The read states each node emitted, in order.</summary>
    public Dictionary<long, List<ReadState>> ReadStates { get; } = [];

    /// <summary>Messages sent and not yet delivered.</summary>
    public List<Message> Outbox { get; } = [];

    public RaftNode this[long id] => _nodes[id];

    public void Restart(long id) => _nodes[id] = new RaftNode(Configs[id], Storages[id]);

    /// <summary>Handles every pending Ready of a node: persist, queue messages, apply.</summary>
    public void Drain(long id)
    {
        var node = _nodes[id];
        while (node.HasReady)
        {
            var ready = node.GetReady();
            if (ready.Snapshot is { } snapshot)
            {
                // A snapshot replaces the whole log: persisted before the entries that follow it.
                Storages[id].ApplySnapshot(snapshot);
                SnapshotsOf(id).Add(snapshot);
            }

            Storages[id].Append(ready.Entries);
            if (ready.HardState is { } hs)
            {
                Storages[id].SetHardState(hs);
            }

            Outbox.AddRange(ready.Messages);
            if (!Applied.TryGetValue(id, out var applied))
            {
                Applied[id] = applied = [];
            }

            applied.AddRange(ready.CommittedEntries);
            ReadStatesOf(id).AddRange(ready.ReadStates);
            node.Advance(ready);
        }
    }

    public List<Snapshot> SnapshotsOf(long id)
    {
        if (!Snapshots.TryGetValue(id, out var snapshots))
        {
            Snapshots[id] = snapshots = [];
        }

        return snapshots;
    }

    /// <summary>
    /// Creates node <paramref name="id"/> outside the group, as a node about to join is started:
    /// with no voters, so it learns its membership from the leader's log. It starts with the
    /// same settings as the founding nodes.
    /// </summary>
    public RaftNode AddJoiningNode(long id)
    {
        if (_nodes.ContainsKey(id))
        {
            throw new ArgumentException($"Node {id} already exists.", nameof(id));
        }

        Storages[id] = new MemoryRaftLog();
        Configs[id] = new RaftConfig
        {
            Id = id,
            Voters = [],
            ElectionTimeoutTicks = 10,
            HeartbeatTimeoutTicks = 1,
            PreVote = _preVote,
            CheckQuorum = _checkQuorum,
            RandomSource = new FixedRandomSource((int)id - 1),
        };
        if (_configure is not null)
        {
            Configs[id] = _configure(id, Configs[id]);
        }

        _nodes[id] = new RaftNode(Configs[id], Storages[id]);
        Ids = [.. Ids, id];
        return _nodes[id];
    }

    /// <summary>Proposes a membership change at <paramref name="id"/> and handles its Ready.</summary>
    public ProposeResult ProposeConfChange(long id, ConfChange change)
    {
        var result = _nodes[id].ProposeConfChange(change);
        Drain(id);
        return result;
    }

    /// <summary>
    /// Compacts the storage of <paramref name="id"/> as a host does after snapshotting its state
    /// machine: a snapshot at <paramref name="index"/> (default: the applied index) holding
    /// <paramref name="data"/>.
    /// </summary>
    public Snapshot Compact(long id, byte[] data, long? index = null)
    {
        var node = _nodes[id];
        var snapshot = new Snapshot(node.SnapshotMetadataAt(index ?? node.AppliedIndex), data);
        Storages[id].Compact(snapshot);
        return snapshot;
    }

    public List<ReadState> ReadStatesOf(long id)
    {
        if (!ReadStates.TryGetValue(id, out var states))
        {
            ReadStates[id] = states = [];
        }

        return states;
    }

    /// <summary>Asks <paramref name="id"/> for a read with the given context and handles its Ready.</summary>
    public ReadIndexStatus Read(long id, string context)
    {
        var status = _nodes[id].ReadIndex(System.Text.Encoding.UTF8.GetBytes(context));
        Drain(id);
        return status;
    }

    public void DrainAll()
    {
        foreach (var id in Ids)
        {
            Drain(id);
        }
    }

    public void Tick(long id, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _nodes[id].Tick();
            Drain(id);
        }
    }

    /// <summary>Removes and returns the queued messages that match.</summary>
    public List<Message> Take(Func<Message, bool>? match = null)
    {
        var taken = Outbox.Where(m => match?.Invoke(m) ?? true).ToList();
        foreach (var m in taken)
        {
            Outbox.Remove(m);
        }

        return taken;
    }

    public void Deliver(Message message)
    {
        _nodes[message.To].Step(message);
        Drain(message.To);
    }

    /// <summary>Delivers messages until none are left; <paramref name="drop"/> filters the network.</summary>
    public void DeliverAll(Func<Message, bool>? drop = null, int maxRounds = 1000)
    {
        for (var round = 0; round < maxRounds && Outbox.Count > 0; round++)
        {
            foreach (var m in Take())
            {
                if (drop is null || !drop(m))
                {
                    Deliver(m);
                }
            }
        }
    }

    /// <summary>Makes <paramref name="id"/> time out and win the election (all messages delivered).</summary>
    public void Elect(long id, Func<Message, bool>? drop = null)
    {
        var node = _nodes[id];
        for (var i = 0; i < 100 && node.Role is not (RaftRole.Candidate or RaftRole.PreCandidate or RaftRole.Leader); i++)
        {
            Tick(id);
        }

        DeliverAll(drop);
    }

    public long Propose(long id, string value)
    {
        var result = _nodes[id].Propose(System.Text.Encoding.UTF8.GetBytes(value));
        Drain(id);
        return result.IsAccepted ? result.Index : -1;
    }

    public static Entry E(long term, long index, string data = "") =>
        new(term, index, System.Text.Encoding.UTF8.GetBytes(data));
}
