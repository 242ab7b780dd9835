using System.Text;
using Streams.Raft.Core;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Support;

public static class Logs
{
    /// <summary>A storage holding one entry per given term (index 1, 2, ...) and the given hard state term.</summary>
    public static MemoryRaftLog WithTerms(long currentTerm, params long[] terms)
    {
        var storage = new MemoryRaftLog();
        storage.Append(terms.Select((t, i) => new Entry(t, i + 1, Encoding.UTF8.GetBytes($"e{i + 1}t{t}"))).ToList());
        storage.SetHardState(new HardState(currentTerm, 0, 0));
        return storage;
    }

    /// <summary>The node's whole log as (index, term, data) triples.</summary>
    public static List<(long Index, long Term, string Data)> Of(RaftNode node) =>
        node.Log.Entries(1, int.MaxValue, long.MaxValue).Select(e => (e.Index, e.Term, Encoding.UTF8.GetString(e.Data.Span))).ToList();
}
