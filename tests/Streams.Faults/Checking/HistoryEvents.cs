using Streams.Faults.Workload;

namespace Streams.Faults.Checking;

/// <summary>A record handed to a producer: its id, its partition key, when (seconds into the run).</summary>
internal sealed record SentRecord(RecordId Id, string PartitionKey, double At);

/// <summary>A record the cluster acknowledged: it must be stored once, in this shard, at this sequence number.</summary>
internal sealed record AckedRecord(RecordId Id, string ShardId, string SequenceNumber, double At);

/// <summary>A record the producer gave up on (its outcome unknown: it may be stored, at most once).</summary>
internal sealed record FailedRecord(RecordId Id, string Error, double At);

/// <summary>A record a group consumer was handed: by which member, under which lease epoch, when.</summary>
internal sealed record DeliveredRecord(string Member, string ShardId, long LeaseEpoch, string SequenceNumber, RecordId Id, double At);

/// <summary>A checkpoint a consumer asked for and the cluster acknowledged: asked at <paramref name="Started"/>, answered at <paramref name="Ended"/>.</summary>
internal sealed record CommittedCheckpoint(string Member, string ShardId, long LeaseEpoch, string SequenceNumber, double Started, double Ended);

/// <summary>A record as a full read of its shard returned it (null id: data the workload never wrote).</summary>
internal sealed record StoredRecord(string SequenceNumber, RecordId? Id, string PartitionKey);

/// <summary>One node's full read of one shard.</summary>
internal sealed record ShardReplicaRead(string Node, string ShardId, IReadOnlyList<StoredRecord> Records);

/// <summary>A fault the nemesis applied, from <paramref name="Start"/> until it was healed at <paramref name="Healed"/>.</summary>
internal sealed record FaultWindow(string Description, double Start, double Healed);
