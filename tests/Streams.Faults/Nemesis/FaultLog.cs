using System.Collections.Concurrent;
using System.Globalization;

namespace Streams.Faults.Nemesis;

/// <summary>What the run did and when (seconds into the run), in order: printed on failure, with the seed.</summary>
internal sealed class FaultLog(Func<double> now, Action<string>? echo = null)
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public void Add(string line)
    {
        var stamped = string.Create(CultureInfo.InvariantCulture, $"{now(),8:F1} s  {line}");
        _lines.Enqueue(stamped);
        echo?.Invoke(stamped);
    }
}
