using System.Globalization;

namespace Streams.Faults.Nemesis;

/// <summary>
/// One fault: its kind, the hosts it hits (<paramref name="Hosts"/>: the isolated side, the frozen
/// or killed host, the host whose link is degraded, or the sender of a one-way partition), the
/// other side (<paramref name="Others"/>), and the size of a link fault (delay ms, loss or reorder %),
/// with <paramref name="Jitter"/> ms of jitter for a delay. Hosts are numbered from 1.
/// </summary>
internal sealed record Fault(FaultKind Kind, IReadOnlyList<int> Hosts, IReadOnlyList<int> Others, int Amount = 0, int Jitter = 0)
{
    public string Describe() => Kind switch
    {
        FaultKind.PartitionHalves => $"partition {List(Hosts)} | {List(Others)}",
        FaultKind.IsolateOne => $"isolate {List(Hosts)} from {List(Others)}",
        FaultKind.PartitionOneWay => $"one-way partition {List(Hosts)} -> {List(Others)}",
        FaultKind.Pause => $"pause {List(Hosts)}",
        FaultKind.Crash => $"crash {List(Hosts)}",
        FaultKind.CrashLeader => Hosts.Count == 0 ? "crash a shard leader" : $"crash shard leader {List(Hosts)}",
        FaultKind.Delay => $"delay {List(Hosts)} {Amount} ms ± {Jitter} ms",
        FaultKind.Loss => $"loss {List(Hosts)} {Amount} %",
        FaultKind.Reorder => $"reorder {List(Hosts)} {Amount} %",
        _ => Kind.ToString(),
    };

    public override string ToString() => Describe();

    private static string List(IReadOnlyList<int> hosts) => string.Join(',', hosts.Select(h => h.ToString(CultureInfo.InvariantCulture)));
}
