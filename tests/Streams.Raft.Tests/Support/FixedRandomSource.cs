using Streams.Raft.Core;

namespace Streams.Raft.Tests.Support;

/// <summary>Always draws the lower bound plus a fixed offset (clamped): election timeouts become exact.</summary>
public sealed class FixedRandomSource(int offset = 0) : IRandomSource
{
    public int NextInRange(int minInclusive, int maxExclusive) => Math.Min(minInclusive + offset, maxExclusive - 1);
}
