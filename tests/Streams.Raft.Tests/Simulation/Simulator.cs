using System.Text;
using Streams.Raft.Core;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Linearizability;

namespace Streams.Raft.Tests.Simulation;

/// <summary>
/// A seeded, deterministic cluster simulation. One <see cref="Random"/> built from the seed
/// drives every choice (fault knobs, message fate and delay, crashes, partitions, client
/// operations, membership changes and each node's election timeouts), so a seed reproduces a run
/// exactly.
/// <list type="bullet">
/// <item>The network drops, delays, duplicates and reorders messages and can be partitioned
/// (symmetric, one-way, leader isolated).</item>
/// <item>A crash discards the node and whatever it had not persisted; a restart builds a new node
/// from its <see cref="MemoryRaftLog"/> only, and its key-value store from the snapshot in it.</item>
/// <item>Clients put and get keys of a <see cref="SimulatedKvStore"/> through any node; every
/// completed operation goes into a <see cref="KvHistory"/> that must be linearizable.</item>
/// <item>Nodes snapshot and compact their logs; leaders add learners, promote them and remove
/// members (themselves included) from a pool of spare nodes; leaders transfer leadership.</item>
/// </list>
/// The <see cref="SafetyChecker"/> runs after every step, plus a check that every read index
/// covers all that was committed before the read was asked; a liveness phase on a healed
/// network follows, then the linearizability check of the whole history (linearizability is
/// prefix-closed, so checking the final history covers every step).
/// </summary>
public sealed class Simulator
{
    private const int ClientTimeoutTicks = 30;

    private static readonly string[] _keys = ["a", "b", "c"];

    private readonly Random _rng;
    private readonly SimulationOptions _options;
    private readonly long[] _ids;
    private readonly long[] _founders;
    private readonly Dictionary<long, RaftNode?> _nodes = [];
    private readonly Dictionary<long, MemoryRaftLog> _storages = [];
    private readonly Dictionary<long, SimulatedKvStore> _stores = [];
    private readonly List<(long DeliverAt, Message Message)> _inFlight = [];
    private readonly HashSet<(long From, long To)> _blocked = [];
    private readonly StringBuilder _trace = new();
    private readonly KvHistory _history = new();
    private readonly List<PendingPut> _puts = [];
    private readonly List<PendingGet> _gets = [];
    private readonly HashSet<int> _busyClients = [];
    private readonly HashSet<long> _slowClocks;
    private readonly Dictionary<long, double> _clockCredit = [];
    private long _now;
    private long _clock;
    private bool _healed;
    private int _values;
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

        _ids = Enumerable.Range(1, _options.ClusterSize + _options.SpareNodes).Select(i => (long)i).ToArray();
        _founders = _ids.Take(_options.ClusterSize).ToArray();
        _slowClocks = _ids.Where(_ => _rng.Next(2) == 0).ToHashSet();
        foreach (var id in _ids)
        {
            _storages[id] = new MemoryRaftLog();
            _stores[id] = new SimulatedKvStore();
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

    /// <summary>Membership changes accepted by a leader.</summary>
    public long MembershipChanges { get; private set; }

    /// <summary>Snapshots installed from a leader.</summary>
    public long SnapshotsInstalled { get; private set; }

    /// <summary>Client operations that completed and were checked for linearizability.</summary>
    public long OperationsChecked { get; private set; }

    private bool MembershipEnabled => _options.MembershipRate > 0 && (_options.PreVote || _options.CheckQuorum);

    /// <summary>Runs the safety phase, the liveness phase and the linearizability check; throws on any violation.</summary>
    public void Run()
    {
        for (var i = 0; i < _options.SafetyTicks; i++)
        {
            FaultStep();
            ClientStep();
            TransferStep();
            MembershipStep();
            TickAll();
            DeliverDue();
            _now++;
        }

        Liveness();
        CheckHistory();
    }

    private RaftNode NewNode(long id) => new(
        new RaftConfig
        {
            Id = id,
            Voters = _founders.Contains(id) ? _founders : [],
            ElectionTimeoutTicks = 10,
            HeartbeatTimeoutTicks = 2,
            PreVote = _options.PreVote,
            CheckQuorum = _options.CheckQuorum,
            ReadOnly = _options.LeaseReads && _options.CheckQuorum ? ReadOnlyMode.LeaseBased : ReadOnlyMode.ReadIndex,

            // Slow clocks lose one tick in ten: two ticks in an election timeout of ten.
            MaxClockDriftTicks = 2,
            MaxEntriesPerMessage = _options.MaxEntriesPerMessage,
            MaxInflightMessages = _options.MaxInflightMessages,
            SnapshotChunkBytes = _options.SnapshotChunkBytes,
            MaxSnapshotChunksInFlight = _options.MaxSnapshotChunksInFlight,
            AppliedIndex = _stores[id].AppliedIndex,
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
                    var leader = CurrentLeader()?.Id ?? 0;
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

    private RaftNode? CurrentLeader() =>
        _ids.Select(id => _nodes[id]).Where(n => n?.Role == RaftRole.Leader).OrderByDescending(n => n!.Term).FirstOrDefault();

    /// <summary>Each idle client may start one operation: a put (proposed at a random node) or a get (a linearizable read there).</summary>
    private void ClientStep()
    {
        AbandonStaleOperations();
        for (var client = 0; client < _options.Clients; client++)
        {
            if (_busyClients.Contains(client))
            {
                continue;
            }

            var key = _keys[_rng.Next(_keys.Length)];
            var target = _ids[_rng.Next(_ids.Length)];
            if (_rng.NextDouble() < _options.ProposeRate)
            {
                StartPut(client, key, target);
            }
            else if (_rng.NextDouble() < _options.ReadRate)
            {
                StartGet(client, key, target);
            }
        }
    }

    private void StartPut(int client, string key, long target)
    {
        var value = $"v{_values++}";
        var opId = _history.InvokePut(client, key, value, ++_clock);
        var data = SimulatedKvStore.EncodePut(opId, key, value);
        if (_nodes[target] is not { } node)
        {
            _history.Fail(opId);
            return;
        }

        var result = node.Propose(data);
        AfterStep(target);
        if (!result.IsAccepted && result.LeaderHint != RaftNode.None && _nodes[result.LeaderHint] is { } leader)
        {
            // A client retries once at the hinted leader.
            target = leader.Id;
            result = leader.Propose(data);
            AfterStep(target);
        }

        _trace.Append($"[{_now}] put {opId} {key}={value} at {target}: {result.Status} {result.Index}@{result.Term}\n");
        if (!result.IsAccepted)
        {
            // Refused: the entry is in no log, so the write certainly did not happen.
            _history.Fail(opId);
            return;
        }

        _busyClients.Add(client);
        _puts.Add(new PendingPut(client, opId, target, result.Index, result.Term, _now));
    }

    private void StartGet(int client, string key, long target)
    {
        if (_nodes[target] is not { } node)
        {
            return;
        }

        var opId = _history.InvokeGet(client, key, ++_clock);
        if (_options.UnsafeLocalReads)
        {
            _history.CompleteGet(opId, _stores[target].Get(key), ++_clock);
            return;
        }

        var context = $"r{_reads++}";
        _readFloor[context] = _maxCommitSeen;
        _busyClients.Add(client);
        _gets.Add(new PendingGet(client, opId, target, key, context, _now));
        var status = node.ReadIndex(Encoding.UTF8.GetBytes(context));
        _trace.Append($"[{_now}] get {opId} {key} {context} at {target}: {status} floor {_maxCommitSeen}\n");
        if (status == ReadIndexStatus.NoLeader)
        {
            _history.Fail(opId);
            _busyClients.Remove(client);
            _gets.RemoveAll(g => g.OpId == opId);
        }

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

    /// <summary>A leader adds a spare node as a learner, promotes a learner, or removes a member (itself included).</summary>
    private void MembershipStep()
    {
        if (!MembershipEnabled || _rng.NextDouble() >= _options.MembershipRate || CurrentLeader() is not { } leader)
        {
            return;
        }

        var conf = leader.ConfState;
        var outsiders = _ids.Where(id => !conf.IsMember(id)).ToList();
        ConfChange change;
        var choice = _rng.Next(3);
        if (choice == 0 && outsiders.Count > 0)
        {
            change = ConfChange.AddLearner(outsiders[_rng.Next(outsiders.Count)]);
        }
        else if (choice == 1 && conf.Learners.Count > 0)
        {
            change = ConfChange.Promote(conf.Learners[_rng.Next(conf.Learners.Count)]);
        }
        else if (conf.Voters.Count > 2 || conf.Learners.Count > 0)
        {
            // Keep at least two voters so that the group can still lose one.
            var removable = conf.Voters.Count > 2 ? conf.Members.ToList() : [.. conf.Learners];
            change = ConfChange.Remove(removable[_rng.Next(removable.Count)]);
        }
        else
        {
            return;
        }

        var result = leader.ProposeConfChange(change);
        _trace.Append($"[{_now}] conf {change.Type} {change.NodeId} at {leader.Id}: {result.Status} {result.Index}\n");
        if (result.IsAccepted)
        {
            MembershipChanges++;
        }

        AfterStep(leader.Id);
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

        foreach (var get in _gets)
        {
            if (get.Node == id && get.Context == context && get.ReadIndex < 0)
            {
                get.ReadIndex = state.Index;
            }
        }
    }

    /// <summary>Completes the operations a node can now answer: puts it applied, gets whose read index it applied.</summary>
    private void SettleOperations(long id)
    {
        var store = _stores[id];
        for (var i = _puts.Count - 1; i >= 0; i--)
        {
            var put = _puts[i];
            if (put.Node != id || store.AppliedIndex < put.Index)
            {
                continue;
            }

            // The node applied its log up to the put's index, so that index is committed: the
            // put happened if the committed entry there is the one proposed (same term).
            var committedTerm = Checker.CommittedTerm(put.Index);
            if (committedTerm == put.Term)
            {
                _history.CompletePut(put.OpId, ++_clock);
            }
            else
            {
                _history.Fail(put.OpId);
            }

            _trace.Append($"[{_now}] put {put.OpId} {(committedTerm == put.Term ? "done" : "lost")}\n");
            _puts.RemoveAt(i);
            _busyClients.Remove(put.Client);
        }

        for (var i = _gets.Count - 1; i >= 0; i--)
        {
            var get = _gets[i];
            if (get.Node != id || get.ReadIndex < 0 || store.AppliedIndex < get.ReadIndex)
            {
                continue;
            }

            var value = store.Get(get.Key);
            _history.CompleteGet(get.OpId, value, ++_clock);
            _trace.Append($"[{_now}] get {get.OpId} {get.Key}={value ?? "-"} at {store.AppliedIndex}\n");
            _gets.RemoveAt(i);
            _busyClients.Remove(get.Client);
        }
    }

    private void TickAll()
    {
        foreach (var id in Shuffled(_ids))
        {
            if (_nodes[id] is { } node && ClockTicks(id))
            {
                node.Tick();
                AfterStep(id);
            }
        }
    }

    /// <summary>Whether a node's clock ticks in this step: a slow clock gathers a fraction of a tick per step.</summary>
    private bool ClockTicks(long id)
    {
        if (!_slowClocks.Contains(id))
        {
            return true;
        }

        var credit = _clockCredit.GetValueOrDefault(id) + _options.SlowClockSpeed;
        var ticks = credit >= 1;
        _clockCredit[id] = ticks ? credit - 1 : credit;
        return ticks;
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

    /// <summary>Handles the node's Readies (persist, send, apply, snapshot), then runs every safety check.</summary>
    private void AfterStep(long id)
    {
        var node = _nodes[id];
        while (node is not null && node.HasReady)
        {
            var ready = node.GetReady();
            if (!_healed && _rng.NextDouble() < _options.CrashBeforePersistRate)
            {
                // Crash before the Ready reached the disk: its snapshot, state, entries and messages are lost.
                Crash(id);
                break;
            }

            var storage = _storages[id];
            if (ready.Snapshot is { } snapshot)
            {
                storage.ApplySnapshot(snapshot);
                Checker.OnSnapshotInstalled(id, snapshot.Metadata.Index, snapshot.Metadata.Term);
                SnapshotsInstalled++;
                _trace.Append($"[{_now}] install {id} {snapshot.Metadata.Index}@{snapshot.Metadata.Term}\n");
            }

            storage.Append(ready.Entries);
            if (ready.HardState is { } hardState)
            {
                storage.SetHardState(hardState);
            }

            Checker.OnPersisted(id, ready.Entries);
            foreach (var message in ready.Messages)
            {
                Send(message);
            }

            if (ready.Snapshot is { } restored)
            {
                _stores[id].Restore(restored);
                Checker.OnRestored(id, restored.Metadata.Index);
            }

            foreach (var entry in ready.CommittedEntries)
            {
                if (entry.Index <= _stores[id].AppliedIndex)
                {
                    // Covered by a snapshot restored in this same Ready.
                    continue;
                }

                Checker.OnApply(id, entry);
                _stores[id].Apply(entry);
            }

            foreach (var state in ready.ReadStates)
            {
                CheckReadState(id, state);
            }

            node.Advance(ready);
            MaybeSnapshot(id, node);
        }

        CheckAll();

        // After the checks, which record what is committed: a put completes only once known committed.
        if (_nodes[id] is not null)
        {
            SettleOperations(id);
        }
    }

    private void MaybeSnapshot(long id, RaftNode node)
    {
        var storage = _storages[id];
        var applied = _stores[id].AppliedIndex;
        if (_options.SnapshotEvery == 0 || applied - (storage.FirstIndex - 1) < _options.SnapshotEvery || applied > storage.LastIndex)
        {
            return;
        }

        storage.Compact(new Snapshot(node.SnapshotMetadataAt(applied), _stores[id].Serialize()));
        _trace.Append($"[{_now}] compact {id} to {applied}\n");
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

        // The node's clients never hear back: their operations stay incomplete (a put may or may
        // not have happened; a get without an answer tells nothing) and the clients move on.
        foreach (var put in _puts.Where(p => p.Node == id))
        {
            _busyClients.Remove(put.Client);
        }

        foreach (var get in _gets.Where(g => g.Node == id))
        {
            _busyClients.Remove(get.Client);
        }

        _puts.RemoveAll(p => p.Node == id);
        _gets.RemoveAll(g => g.Node == id);
    }

    private void Restart(long id)
    {
        _trace.Append($"[{_now}] restart {id}\n");
        var store = new SimulatedKvStore();
        if (_storages[id].Snapshot is { } snapshot)
        {
            store.Restore(snapshot);
        }

        _stores[id] = store;
        Checker.OnRestored(id, store.AppliedIndex);
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

        // Gets still waiting for a forwarded read that was lost are abandoned, as a client would time out.
        foreach (var get in _gets)
        {
            _busyClients.Remove(get.Client);
        }

        _gets.Clear();
        (long Index, long Term) proposed = (0, 0);
        var deadline = _now + _options.LivenessTicks;
        while (_now < deadline)
        {
            // The network is healed: no drops, no duplicates, short delays, no crashes.
            var leader = CurrentLeader();
            if (leader is not null && leader.Term != proposed.Term)
            {
                var result = leader.Propose(SimulatedKvStore.EncodePut(0, "live", $"s{Seed}"));
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

            DeliverDue();
            _now++;
            if (proposed.Index > 0 && Checker.CommittedTerm(proposed.Index) == proposed.Term && CurrentLeader() is { } current
                && current.ConfState.Members.All(id => _stores[id].AppliedIndex >= proposed.Index))
            {
                _trace.Append($"[{_now}] live at {proposed.Index}@{proposed.Term} steps {StepsChecked} committed {Checker.CommittedIndex} {current.ConfState}\n");
                return;
            }
        }

        throw new SafetyViolationException(
            $"liveness: no proposal committed and applied by every member within {_options.LivenessTicks} ticks of healing "
            + $"(nodes: {string.Join(", ", _ids.Select(id => $"{id}:{_nodes[id]!.Role}@t{_nodes[id]!.Term} c{_nodes[id]!.CommitIndex} a{_stores[id].AppliedIndex} l{_nodes[id]!.LastIndex} {_nodes[id]!.ConfState}"))})");
    }

    private void CheckHistory()
    {
        var operations = _history.Operations;
        OperationsChecked = operations.Count(o => o.Response is not null);
        var result = LinearizabilityChecker.Check(operations);
        _trace.Append($"[{_now}] history {operations.Count} ops: {result.Outcome}\n");
        if (result.Outcome == LinearizabilityOutcome.NotLinearizable)
        {
            throw new SafetyViolationException($"linearizability: {result.Explanation}");
        }
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

    /// <summary>
    /// A client gives up on an operation that has not completed within the timeout (a forwarded
    /// read that was lost, a put on a node cut off from the leader): it stays incomplete in the
    /// history and the client moves on.
    /// </summary>
    private void AbandonStaleOperations()
    {
        var deadline = _now - ClientTimeoutTicks;
        foreach (var put in _puts.Where(p => p.StartedAt < deadline))
        {
            _busyClients.Remove(put.Client);
        }

        foreach (var get in _gets.Where(g => g.StartedAt < deadline))
        {
            _busyClients.Remove(get.Client);
        }

        _puts.RemoveAll(p => p.StartedAt < deadline);
        _gets.RemoveAll(g => g.StartedAt < deadline);
    }

    private sealed record PendingPut(int Client, long OpId, long Node, long Index, long Term, long StartedAt);

    private sealed record PendingGet(int Client, long OpId, long Node, string Key, string Context, long StartedAt)
    {
        public long ReadIndex { get; set; } = -1;
    }
}
