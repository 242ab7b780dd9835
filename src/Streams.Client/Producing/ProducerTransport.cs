namespace Streams.Client.Producing;

/// <summary>How a <see cref="Producer"/> sends its batches.</summary>
public enum ProducerTransport
{
    /// <summary>
    /// One Produce stream (bidirectional) per node, shared by the shards it leads: a node starts the
    /// batches of a stream in the order they arrive, so a shard sees a producer's pipelined batches
    /// in order, and no call is made per batch. The default.
    /// </summary>
    ProduceStream,

    /// <summary>
    /// One PutRecords call per batch. Concurrent calls may reach a shard out of order; an overtaking
    /// batch is refused and sent again, which costs round trips when several batches are in flight.
    /// For proxies that do not pass bidirectional streams.
    /// </summary>
    PutRecords,
}
