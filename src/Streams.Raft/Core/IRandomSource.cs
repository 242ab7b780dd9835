namespace Streams.Raft.Core;

/// <summary>
/// The only source of randomness the core uses (to draw election timeouts). Injected, so that a
/// simulation driven by one seed is reproducible.
/// </summary>
public interface IRandomSource
{
    /// <summary>A uniformly drawn integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    /// <param name="minInclusive">The lower bound, inclusive.</param>
    /// <param name="maxExclusive">The upper bound, exclusive; greater than the lower bound.</param>
    int NextInRange(int minInclusive, int maxExclusive);
}
