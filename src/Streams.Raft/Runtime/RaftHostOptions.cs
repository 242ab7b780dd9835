namespace Streams.Raft.Runtime;

/// <summary>The settings of a <see cref="RaftHost"/>.</summary>
public sealed class RaftHostOptions
{
    /// <summary>
    /// The length of one Raft tick for every group of the host. With the default election timeout
    /// of 10 ticks, 100 ms gives elections after 1–2 s of silence and heartbeats every 100 ms.
    /// </summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Seeds the groups' election timeout draws (reproducible runs); null draws a random seed.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming what to change.</summary>
    public void Validate()
    {
        if (TickInterval < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentException($"Invalid Raft host options: TickInterval is {TickInterval}; set it to at least 1 ms (100 ms suits most deployments).");
        }
    }
}
