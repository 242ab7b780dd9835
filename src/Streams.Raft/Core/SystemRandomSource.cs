namespace Streams.Raft.Core;

/// <summary>An <see cref="IRandomSource"/> over a <see cref="Random"/> the host creates (and seeds).</summary>
/// <param name="random">The generator; not shared with other threads.</param>
public sealed class SystemRandomSource(Random random) : IRandomSource
{
    private readonly Random _random = random ?? throw new ArgumentNullException(nameof(random));

    /// <inheritdoc/>
    public int NextInRange(int minInclusive, int maxExclusive) => _random.Next(minInclusive, maxExclusive);
}
