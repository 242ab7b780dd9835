namespace Streams.Client.Producing;

/// <summary>Where a <see cref="ProducerBatch"/> is in its shard's queue.</summary>
internal enum BatchState
{
    /// <summary>Taking records.</summary>
    Open,

    /// <summary>Sealed and waiting to be sent (for the first time, after a backoff, or after its predecessors).</summary>
    Waiting,

    /// <summary>Sent; no answer yet.</summary>
    InFlight,

    /// <summary>Out of the queue: acknowledged, refused, or moved to other batches.</summary>
    Done,
}
