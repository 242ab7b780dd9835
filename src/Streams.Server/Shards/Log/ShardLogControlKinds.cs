namespace Streams.Server.Shards.Log;

/// <summary>
/// The first byte of a control batch's payload says what it is. Kinds below
/// <see cref="FirstApplicationKind"/> are the shard log's own (the Raft entries that are not
/// record batches); an application's control batch starts with a kind of
/// <see cref="FirstApplicationKind"/> or more, and <see cref="ShardRaftLog"/> refuses any other.
/// </summary>
public static class ShardLogControlKinds
{
    /// <summary>A leader's no-op (an empty Raft entry): the payload is this byte alone.</summary>
    public const byte NoOp = 0;

    /// <summary>A membership change (a Raft configuration entry): this byte, then the entry's data.</summary>
    public const byte Config = 1;

    /// <summary>The lowest kind an application's control batch may use; 2 to 15 are reserved for the log.</summary>
    public const byte FirstApplicationKind = 16;

    /// <summary>True when <paramref name="kind"/> belongs to the log, not to an application.</summary>
    /// <param name="kind">The first byte of a control batch's payload.</param>
    public static bool IsReserved(byte kind) => kind < FirstApplicationKind;
}
