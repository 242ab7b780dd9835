namespace Streams.Client.Consuming;

/// <summary>Why a shard's reader stopped; only a graceful stop allows a last checkpoint.</summary>
internal enum ShardReaderStop
{
    /// <summary>Still running (or ended the shard).</summary>
    None,

    /// <summary>The lease went to another member (a heartbeat no longer listed it, or a checkpoint was refused).</summary>
    LeaseLost,

    /// <summary>Heartbeats failed until the session must have expired: the member fenced itself off.</summary>
    Fenced,

    /// <summary>The consumer is stopping gracefully.</summary>
    Shutdown,

    /// <summary>The reader or the application's handler failed.</summary>
    Failed,
}
