using System.Diagnostics.Metrics;

namespace Streams.Raft.Runtime;

/// <summary>
/// The runtime's instruments on the <see cref="RaftHost.MeterName"/> meter of one host. Totals
/// across groups, except the term, which is a gauge per group.
/// </summary>
internal sealed class RaftMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _proposals;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _saves;
    private readonly Counter<long> _leaderChanges;
    private readonly Counter<long> _droppedMessages;
    private readonly KeyValuePair<string, object?> _accepted = new("outcome", "accepted");
    private readonly KeyValuePair<string, object?> _refused = new("outcome", "refused");

    public RaftMetrics(long nodeId, IMeterFactory? meterFactory, Func<IEnumerable<Measurement<long>>> terms)
    {
        var options = new MeterOptions(RaftHost.MeterName) { Tags = [new("streams.raft.node", nodeId)] };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        _proposals = _meter.CreateCounter<long>("streams.raft.proposals", "{proposal}", "Proposals (entries and membership changes) taken by a leader or refused.");
        _applied = _meter.CreateCounter<long>("streams.raft.entries.applied", "{entry}", "Committed entries applied to state machines.");
        _saves = _meter.CreateCounter<long>("streams.raft.storage.saves", "{save}", "Readies persisted (one durable write each; proposals per save is the group-commit factor).");
        _leaderChanges = _meter.CreateCounter<long>("streams.raft.leader.changes", "{change}", "Times a group on this node learned of a new leader.");
        _droppedMessages = _meter.CreateCounter<long>("streams.raft.messages.dropped", "{message}", "Received messages dropped: unknown group, wrong node or a full inbox.");
        _meter.CreateObservableGauge("streams.raft.term", terms, "{term}", "The current term of each group on this node.");
    }

    public void Proposed(bool accepted) => _proposals.Add(1, accepted ? _accepted : _refused);

    public void Applied(int entries) => _applied.Add(entries);

    public void Saved() => _saves.Add(1);

    public void LeaderChanged() => _leaderChanges.Add(1);

    public void DroppedMessage() => _droppedMessages.Add(1);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
