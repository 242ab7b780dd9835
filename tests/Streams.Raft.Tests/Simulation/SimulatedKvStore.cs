using System.Text;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Simulation;

/// <summary>
/// The test key-value state machine each simulated node runs. A Normal entry "put|op|key|value"
/// sets a key; anything else (a leader's no-op, a configuration entry) only moves the applied
/// index. Volatile: a crash loses it and the node rebuilds it from its snapshot and the log.
/// </summary>
public sealed class SimulatedKvStore
{
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);

    public long AppliedIndex { get; private set; }

    public string? Get(string key) => _values.GetValueOrDefault(key);

    public static byte[] EncodePut(long opId, string key, string value) => Encoding.UTF8.GetBytes($"put|{opId}|{key}|{value}");

    public void Apply(Entry entry)
    {
        if (entry.Index != AppliedIndex + 1)
        {
            throw new SafetyViolationException($"the state machine at {AppliedIndex} was handed entry {entry.Index}");
        }

        AppliedIndex = entry.Index;
        if (entry.Type != EntryType.Normal || entry.Data.IsEmpty)
        {
            return;
        }

        var parts = Encoding.UTF8.GetString(entry.Data.Span).Split('|');
        _values[parts[2]] = parts[3];
    }

    public byte[] Serialize()
    {
        var text = new StringBuilder();
        foreach (var (key, value) in _values)
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public void Restore(Snapshot snapshot)
    {
        _values.Clear();
        foreach (var line in Encoding.UTF8.GetString(snapshot.Data.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            _values[line[..eq]] = line[(eq + 1)..];
        }

        AppliedIndex = snapshot.Metadata.Index;
    }
}
