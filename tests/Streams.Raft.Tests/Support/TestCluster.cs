using Streams.Raft.Core;
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

    public TestCluster(int size, bool preVote = false, bool checkQuorum = false, Func<long, RaftConfig, RaftConfig>? configure = null)
    {
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

    public long[] Ids { get; }

    public Dictionary<long, MemoryRaftLog> Storages { get; } = [];

    public Dictionary<long, RaftConfig> Configs { get; } = [];

    public Dictionary<long, List<Entry>> Applied { get; } = [];

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
