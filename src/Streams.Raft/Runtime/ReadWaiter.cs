namespace Streams.Raft.Runtime;

/// <summary>A linearizable read waiting for its read index and then for the state machine to reach it.</summary>
internal sealed class ReadWaiter : RaftWaiter<long>
{
    /// <summary>Unique within the group; the request context carries it.</summary>
    public long Id { get; set; }

    /// <summary>The request context (instance nonce and <see cref="Id"/>), reused on retries.</summary>
    public byte[] Context { get; set; } = [];

    /// <summary>The tick at which the read fails with a timeout.</summary>
    public long DeadlineTick { get; set; }

    /// <summary>The tick at which a read still without answer is asked again.</summary>
    public long RetryTick { get; set; }

    /// <summary>The term this node led when it took the read itself; 0 when forwarded or not yet issued.</summary>
    public long LeaderTerm { get; set; }
}
