namespace Streams.Load.Targets;

/// <summary>How an end-to-end scenario's records reach their reader.</summary>
internal enum DeliveryPath
{
    /// <summary>GetShardIterator, then GetRecords in a loop per shard (10 ms pause after an empty read).</summary>
    GetRecords,

    /// <summary>One SubscribeToShard call per shard: the server pushes records as they commit.</summary>
    SubscribeToShard,

    /// <summary>The SDK's group <c>Consumer</c> (leases, checkpoints; it polls GetRecords, 10 ms idle delay).</summary>
    ConsumerGroup,
}
