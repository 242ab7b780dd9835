using Google.Protobuf;
using Streams.Server.Metadata.Firehose;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Metadata;

// Delivery streams: created, updated and deleted here; their workers report progress here. The
// consumer group a delivery stream reads through belongs to its source stream like any other.
public sealed partial class ControllerState
{
    private static (ClusterMetadata, ApplyResult) CreateDeliveryStream(ClusterMetadata metadata, CreateDeliveryStreamCommand command)
    {
        if (DeliveryStreamRules.ValidateName(command.DeliveryStreamName) is { } invalidName)
        {
            return Refuse(metadata, MetadataError.InvalidArgument(invalidName));
        }

        if (CheckDestination(command.DeliveryStreamName, command.Destination, out var destination) is { } invalid)
        {
            return Refuse(metadata, invalid);
        }

        if (command.InitialPosition is not ((int)InitialPosition.TrimHorizon or (int)InitialPosition.Latest))
        {
            return Refuse(metadata, MetadataError.InvalidArgument($"initial_position {command.InitialPosition} is not TRIM_HORIZON or LATEST."));
        }

        if (metadata.DeliveryStreams.ContainsKey(command.DeliveryStreamName))
        {
            return Refuse(metadata, MetadataError.InUse($"Delivery stream '{command.DeliveryStreamName}' exists already; choose another name, or change its destination with UpdateDestination."));
        }

        if (metadata.DeliveryStreams.Count >= DeliveryStreamRules.MaxDeliveryStreams)
        {
            return Refuse(metadata, MetadataError.LimitExceeded($"The cluster has {metadata.DeliveryStreams.Count} delivery streams, the most it allows; delete one no longer used."));
        }

        if (FindStream(metadata, command.SourceStreamName, out var source) is { } missing)
        {
            return Refuse(metadata, missing);
        }

        if (source.Status is not (StreamStatus.Active or StreamStatus.Updating))
        {
            return Refuse(metadata, MetadataError.InUse($"Stream '{source.Name}' is {StatusName(source.Status)}; a delivery stream needs its source ACTIVE or UPDATING: wait until DescribeStreamSummary says ACTIVE, then retry."));
        }

        var at = ToTime(command.TimestampUnixMs);
        var record = new DeliveryStreamRecord
        {
            Name = command.DeliveryStreamName,
            SourceStreamName = source.Name,
            Destination = destination,
            InitialPosition = (InitialPosition)command.InitialPosition,
            CreatedAt = at,
            UpdatedAt = at,
        };
        return (WithDeliveryStream(metadata, record), ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) UpdateDestination(ClusterMetadata metadata, UpdateDestinationCommand command)
    {
        if (FindDeliveryStream(metadata, command.DeliveryStreamName, out var record) is { } missing)
        {
            return Refuse(metadata, missing);
        }

        if (CheckDestination(record.Name, command.Destination, out var destination) is { } invalid)
        {
            return Refuse(metadata, invalid);
        }

        if (command.CurrentVersionId != record.VersionId)
        {
            if (command.CurrentVersionId == record.VersionId - 1 && destination == record.Destination)
            {
                // This very update, applied already (a proposal retried after a leader change).
                return Unchanged(metadata);
            }

            return Refuse(metadata, MetadataError.ConcurrentModification($"Delivery stream '{record.Name}' is at version {record.VersionId}, not {command.CurrentVersionId}: its destination changed since you read it; describe it again, then update with current_version_id {record.VersionId}."));
        }

        var updated = record with { Destination = destination, VersionId = record.VersionId + 1, UpdatedAt = ToTime(command.TimestampUnixMs) };
        return (WithDeliveryStream(metadata, updated), ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) DeleteDeliveryStream(ClusterMetadata metadata, DeleteDeliveryStreamCommand command)
    {
        if (FindDeliveryStream(metadata, command.DeliveryStreamName, out var record) is { } missing)
        {
            return Refuse(metadata, missing);
        }

        // The group goes with it even while workers are members: they stop once they see the
        // delivery stream gone, and their next heartbeat or checkpoint is refused meanwhile.
        metadata = metadata with { DeliveryStreams = metadata.DeliveryStreams.Remove(record.Name) };
        if (metadata.TryGetStream(record.SourceStreamName, out var source) && source.ConsumerGroups.ContainsKey(record.ConsumerGroupName))
        {
            metadata = WithStream(metadata, source with { ConsumerGroups = source.ConsumerGroups.Remove(record.ConsumerGroupName) });
        }

        return (metadata, ApplyResult.Done);
    }

    private static (ClusterMetadata, ApplyResult) DeliveryProgress(ClusterMetadata metadata, DeliveryProgressCommand command)
    {
        if (FindDeliveryStream(metadata, command.DeliveryStreamName, out var record) is { } missing)
        {
            return Refuse(metadata, missing);
        }

        if (!Routing.ShardIds.TryParse(command.ShardId, out _))
        {
            return Refuse(metadata, MetadataError.InvalidArgument(Routing.ShardIds.ParseError("shard_id", command.ShardId)));
        }

        var before = record.ProgressOf(command.ShardId);
        var failed = command.LastError.Length > 0;
        var after = before with
        {
            Worker = command.Worker,
            LagMillis = Math.Max(0, command.LagMillis),
            LagRecords = Math.Max(0, command.LagRecords),
            ObjectsDelivered = before.ObjectsDelivered + Math.Max(0, command.ObjectsDelivered),
            RecordsDelivered = before.RecordsDelivered + Math.Max(0, command.RecordsDelivered),
            BytesDelivered = before.BytesDelivered + Math.Max(0, command.BytesDelivered),
            RecordsFailed = before.RecordsFailed + Math.Max(0, command.RecordsFailed),
            UploadFailures = before.UploadFailures + Math.Max(0, command.UploadFailures),
            LastError = failed ? command.LastError : before.LastError,
            LastErrorAt = failed ? ToTime(command.LastErrorUnixMs) : before.LastErrorAt,
            ReportedAt = ToTime(command.TimestampUnixMs),
        };
        return (WithDeliveryStream(metadata, record with { Shards = record.Shards.SetItem(command.ShardId, after) }), ApplyResult.Done);
    }

    // The destination is stored as the proposer normalized it; the controller checks it again, so
    // a proposer of another version cannot store one this version's workers would not understand.
    private static MetadataError? CheckDestination(string name, ByteString bytes, out ByteString normalized)
    {
        normalized = ByteString.Empty;
        DeliveryDestination requested;
        try
        {
            requested = DeliveryDestination.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return MetadataError.InvalidArgument($"The destination is not a DeliveryDestination message: {ex.Message}");
        }

        if (DeliveryStreamRules.Normalize(name, requested, out var destination) is { } problem)
        {
            return MetadataError.InvalidArgument(problem);
        }

        normalized = destination.ToByteString();
        return null;
    }

    private static MetadataError? FindDeliveryStream(ClusterMetadata metadata, string name, out DeliveryStreamRecord record)
    {
        record = null!;
        if (DeliveryStreamRules.ValidateName(name) is { } invalid)
        {
            return MetadataError.InvalidArgument(invalid);
        }

        if (!metadata.DeliveryStreams.TryGetValue(name, out var found))
        {
            return MetadataError.NotFound($"Delivery stream '{name}' not found; check the name (ListDeliveryStreams lists them).");
        }

        record = found;
        return null;
    }

    private static ClusterMetadata WithDeliveryStream(ClusterMetadata metadata, DeliveryStreamRecord record) =>
        metadata with { DeliveryStreams = metadata.DeliveryStreams.SetItem(record.Name, record) };
}
