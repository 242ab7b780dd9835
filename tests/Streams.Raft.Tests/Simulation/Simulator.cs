using System.Text;
using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Simulation;

/// <summary>
/// A seeded, deterministic cluster simulation. One <see cref="Random"/> built from the seed
/// drives every choice (fault knobs, message fate and delay, crashes, partitions, proposals and
/// each node's election timeouts), so a seed reproduces a run exactly. The network drops,
/// delays, duplicates and reorders messages and can be partitioned (symmetric, one-way, leader
/// isolated). A crash discards the node and whatever it had not persisted; a restart builds a
/// new node from its <see cref="MemoryRaftLog"/> only. The <see cref="SafetyChecker"/> runs after
/// every step, with the check that every linearizable read (ReadIndex, issued at random, as are
/// leadership transfers) covers all that was committed before it was requested; a liveness phase
/// on a healed network follows.
/// </summary>
public sealed class Simulator
{
    private readonly Random _rng;
    private readonly SimulationOptions _options;
    private readonly long[] _ids;
    private readonly Dictionary<long, RaftNode?> _nodes = [];
    private readonly Dictionary<long, MemoryRaftLog> _storages = [];
    private readonly List<(long DeliverAt, Message Message)> _inFlight = [];
    private readonly HashSet<(long From, long To)> _blocked = [];
    private readonly StringBuilder _trace = new();
    private long _now;
    private bool _healed;
    private int _proposals;
    private int _reads;
    private long _maxCommitSeen;

    // Per read context: the highest commit index any node had when the read was requested.
    private readonly Dictionary<string, long> _readFloor = [];

    public Simulator(int seed, Func<SimulationOptions, SimulationOptions>? adjust = null)
    {
        Seed = seed;
        _rng = new Random(seed);
        _options = SimulationOptions.Draw(_rng);
        if (adjust is not null)
        {
            _options = adjust(_options);
        }

        _ids = Enumerable.Range(1, _options.ClusterSize).Select(i => (long)i).ToArray();
        foreach (var id in _ids)
        {
            _storages[id] = new MemoryRaftLog();
            _nodes[id] = NewNode(id);
        }
    }

    public int Seed { get; }

    public SimulationOptions Options => _options;

    public SafetyChecker Checker { get; } = new();

    /// <summary>A digest of everything that happened, to prove runs of one seed are identical.</summary>
    public string Trace => _trace.ToString();

    public long StepsChecked { get; private set; }

    /// <summary>Read states emitted and checked against their floor.</summary>
    public long ReadsChecked { get; private set; }

    /// <summary>Leadership transfers started (whether or not they completed).</summary>
    public long TransfersStarted { get; private set; }

    /// <summary>Runs the safety phase then the liveness phase; throws on any violation.</summary>
    public void Run()
    {
        for (var i = 0; i < _options.SafetyTicks; i++)
        {
            FaultStep();
            ProposeStep();
            ReadStep();
            TransferStep();
            TickAll();
            DeliverDue();
            _now++;
        }

        Liveness();
    }

    private RaftNode NewNode(long id) => new(
        new RaftConfig
        {
            Id = id,
            Voters = _ids,
            ElectionTimeoutTicks = 10,
            HeartbeatTimeoutTicks = 2,
            PreVote = _options.PreVote,
            CheckQuorum = _options.CheckQuorum,
            MaxEntriesPerMessage = _options.MaxEntriesPerMessage,
            MaxInflightMessages = _options.MaxInflightMessages,
            RandomSource = new SystemRandomSource(new Random(_rng.Next())),
            UnsafeCommitEntriesOfEarlierTerms = _options.UnsafeCommitEntriesOfEarlierTerms,
            UnsafeReadIndexWithoutHeartbeats = _options.UnsafeReadIndexWithoutHeartbeats,
        },
        _storages[id]);

    private void FaultStep()
    {
        foreach (var id in _ids)
        {
            if (_nodes[id] is not null && _rng.NextDouble() < _options.CrashRate)
            {
                Crash(id);
            }
            else if (_nodes[id] is null && _rng.NextDouble() < _options.RestartRate)
            {
                Restart(id);
            }
        }

        if (_rng.NextDouble() < _options.PartitionRate)
        {
            _blocked.Clear();
            switch (_rng.Next(4))
            {
                case 0:
                    // Heal.
                    _trace.Append($"[{_now}] heal\n");
                    break;
                case 1:
                    // Symmetric: a random side cannot talk to the other.
                    var side = _ids.Where(_ => _rng.Next(2) == 0).ToHashSet();
                    foreach (var a in _ids)
                    {
                        foreach (var b in _ids)
                        {
                            if (side.Contains(a) != side.Contains(b))
                            {
                                _blocked.Add((a, b));
                            }
                        }
                    }

                    _trace.Append($"[{_now}] partition {string.Join(',', side)}\n");
                    break;
                case 2:
                    // One-way: random directed links fail.
                    foreach (var a in _ids)
                    {
                        foreach (var b in _ids)
                        {
                            if (a != b && _rng.Next(3) == 0)
                            {
                                _blocked.Add((a, b));
                            }
                        }
                    }

                    _trace.Append($"[{_now}] one-way {_blocked.Count}\n");
                    break;
                default:
                    // Isolate the leader (the highest-term one) in both directions.
                    var leader = _ids.Where(id => _nodes[id]?.Role == RaftRole.Leader).OrderByDescending(id => _nodes[id]!.Term).FirstOrDefault();
                    if (leader != 0)
                    {
                        foreach (var other in _ids.Where(o => o != leader))
                        {
                            _blocked.Add((leader, other));
                            _blocked.Add((other, leader));
                        }
                    }

                    _trace.Append($"[{_now}] isolate {leader}\n");
                    break;
            }
        }
    }

    private void ProposeStep()
    {
        if (_rng.NextDouble() >= _options.ProposeRate)
        {
            return;
        }

        var target = _ids[_rng.Next(_ids.Length)];
        var node = _nodes[target];
        if (node is null)
        {
            return;
        }

        var result = node.Propose(Encoding.UTF8.GetBytes($"s{Seed}-v{_proposals++}"));
        if (!result.IsAccepted && result.LeaderHint != RaftNode.None && _nodes[result.LeaderHint] is { } leader)
        {
            // A client retries once at the hinted leader.
            leader.Propose(Encoding.UTF8.GetBytes($"s{Seed}-v{_proposals++}"));
            AfterStep(result.LeaderHint);
        }

        AfterStep(target);
    }

    private void ReadStep()
    {
        if (_rng.NextDouble() >= _options.ReadRate)
        {
            return;
        }

        var target = _ids[_rng.Next(_ids.Length)];
        if (_nodes[target] is not { } node)
        {
            return;
        }

        var context = $"r{_reads++}";
        _readFloor[context] = _maxCommitSeen;
        var status = node.ReadIndex(Encoding.UTF8.GetBytes(context));
        _trace.Append($"[{_now}] read {context} at {target}: {status} floor {_maxCommitSeen}\n");
        AfterStep(target);
    }

    private void TransferStep()
    {
        if (_rng.NextDouble() >= _options.TransferRate)
        {
            return;
        }

        var leaders = _ids.Where(id => _nodes[id]?.Role == RaftRole.Leader).ToList();
        if (leaders.Count == 0)
        {
            return;
        }

        var leader = leaders[_rng.Next(leaders.Count)];
        var target = _ids[_rng.Next(_ids.Length)];
        var status = _nodes[leader]!.TransferLeadership(target);
        _trace.Append($"[{_now}] transfer {leader}->{target}: {status}\n");
        if (status == TransferLeadershipStatus.Started)
        {
            TransfersStarted++;
        }

        AfterStep(leader);
    }

    /// <summary>
    /// Linearizability of reads: a read's index must cover every entry committed anywhere before
    /// the read was requested, or serving it at that index could miss a completed write.
    /// </summary>
    private void CheckReadState(long id, ReadState state)
    {
        ReadsChecked++;
        var context = Encoding.UTF8.GetString(state.RequestContext.Span);
        if (!_readFloor.TryGetValue(context, out var floor))
        {
            throw new SafetyViolationException($"node {id} emitted a read state for unknown context {context}");
        }

        if (state.Index < floor)
        {
            throw new SafetyViolationException(
                $"linearizable read: node {id} answered {context} at index {state.Index}, below commit index {floor} reached before it was requested");
        }
    }

    private void TickAll()
    {
        foreach (var id in Shuffled(_ids))
        {
            if (_nodes[id] is { } node)
            {
                node.Tick();
                AfterStep(id);
            }
        }
    }

    private void DeliverDue()
    {
        var due = _inFlight.Where(f => f.DeliverAt <= _now).ToList();
        _inFlight.RemoveAll(f => f.DeliverAt <= _now);
        foreach (var (_, message) in Shuffled(due))
        {
            Deliver(message);
        }
    }

    private void Deliver(Message message)
    {
        if (_blocked.Contains((message.From, message.To)) || _nodes[message.To] is not { } node)
        {
            return;
        }

        node.Step(message);
        AfterStep(message.To);
    }

    /// <summary>Handles the node's Readies (persist, send, apply), then runs every safety check.</summary>
    private void AfterStep(long id)
    {
        var node = _nodes[id];
        while (node is not null && node.HasReady)
        {
            var ready = node.GetReady();
            if (!_healed && _rng.NextDouble() < _options.CrashBeforePersistRate)
            {
                // Crash before the Ready reached the disk: its state, entries and messages are lost.
                Crash(id);
                break;
            }

            _storages[id].Append(ready.Entries);
            if (ready.HardState is { } hardState)
            {
                _storages[id].SetHardState(hardState);
            }

            Checker.OnPersisted(id, ready.Entries);
            foreach (var message in ready.Messages)
            {
                Send(message);
            }

            foreach (var entry in ready.CommittedEntries)
            {
                Checker.OnApply(id, entry);
            }

            foreach (var state in ready.ReadStates)
            {
                CheckReadState(id, state);
            }

            node.Advance(ready);
        }

        CheckAll();
    }

    private void Send(Message message)
    {
        if (_healed)
        {
            _inFlight.Add((_now + 1 + _rng.Next(2), message));
            return;
        }

        if (_rng.NextDouble() < _options.DropRate)
        {
            return;
        }

        _inFlight.Add((_now + 1 + _rng.Next(_options.MaxDelayTicks + 1), message));
        if (_rng.NextDouble() < _options.DuplicateRate)
        {
            _inFlight.Add((_now + 1 + _rng.Next(_options.MaxDelayTicks + 1), message));
        }
    }

    private void CheckAll()
    {
        StepsChecked++;
        foreach (var id in _ids)
        {
            if (_nodes[id] is { } node)
            {
                Checker.OnCommit(id, node.Term, node.CommitIndex);
                _maxCommitSeen = Math.Max(_maxCommitSeen, node.CommitIndex);
                Checker.OnRole(id, node.Term, node.Role == RaftRole.Leader);
            }
        }
    }

    private void Crash(long id)
    {
        _trace.Append($"[{_now}] crash {id}\n");
        _nodes[id] = null;
        Checker.OnCrash(id);
    }

    private void Restart(long id)
    {
        _trace.Append($"[{_now}] restart {id}\n");
        _nodes[id] = NewNode(id);
        AfterStep(id);
    }

    private void Liveness()
    {
        _trace.Append($"[{_now}] liveness\n");
        _healed = true;
        _blocked.Clear();
        foreach (var id in _ids.Where(id => _nodes[id] is null))
        {
            Restart(id);
        }

        var value = Encoding.UTF8.GetBytes($"s{Seed}-liveness");
        (long Index, long Term) proposed = (0, 0);
        var deadline = _now + _options.LivenessTicks;
        while (_now < deadline)
        {
            // The network is healed: no drops, no duplicates, short delays, no crashes.
            var leader = _ids.Select(id => _nodes[id]!).Where(n => n.Role == RaftRole.Leader).OrderByDescending(n => n.Term).FirstOrDefault();
            if (leader is not null && leader.Term != proposed.Term)
            {
                var result = leader.Propose(value);
                if (result.IsAccepted)
                {
                    proposed = (result.Index, result.Term);
                }

                AfterStep(leader.Id);
            }

            foreach (var id in Shuffled(_ids))
            {
                _nodes[id]!.Tick();
                AfterStep(id);
            }

            var due = _inFlight.Where(f => f.DeliverAt <= _now).ToList();
            _inFlight.RemoveAll(f => f.DeliverAt <= _now);
            foreach (var (_, message) in Shuffled(due))
            {
                Deliver(message);
            }

            _now++;
            if (proposed.Index > 0 && _ids.All(id => AppliedValue(id, proposed.Index, value)))
            {
                _trace.Append($"[{_now}] live at {proposed.Index}@{proposed.Term} steps {StepsChecked} committed {Checker.CommittedIndex}\n");
                return;
            }
        }

        throw new SafetyViolationException(
            $"liveness: no proposal committed on all {_ids.Length} nodes within {_options.LivenessTicks} ticks of healing "
            + $"(roles: {string.Join(", ", _ids.Select(id => $"{id}:{_nodes[id]!.Role}@t{_nodes[id]!.Term} c{_nodes[id]!.CommitIndex} l{_nodes[id]!.LastIndex}"))})");
    }

    private bool AppliedValue(long id, long index, byte[] value)
    {
        var node = _nodes[id]!;
        if (Checker.LastApplied(id) < index)
        {
            return false;
        }

        return node.Log.TryTerm(index, out _) && node.Log.Entries(index, 1, long.MaxValue)[0].Data.Span.SequenceEqual(value);
    }

    private List<T> Shuffled<T>(IReadOnlyList<T> items)
    {
        var list = items.ToList();
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = _rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }

        return list;
    }
}
