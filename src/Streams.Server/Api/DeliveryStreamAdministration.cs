using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Streams.Server.Cluster;
using Streams.Server.Metadata;
using Streams.Server.Metadata.Firehose;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// The Firehose operations: changes are controller commands (checked here first with the
/// controller's own rules, so a bad request costs no log entry); reads come from this node's copy,
/// made linearizable when a delivery stream is not in it yet.
/// </summary>
internal sealed class DeliveryStreamAdministration(StreamsCluster cluster, StreamAdministration streams, TimeProvider time)
{
    private const int DefaultListLimit = 100;
    private const int MaxListLimit = 10_000;

    /// <summary>CreateDeliveryStream.</summary>
    public async Task<CreateDeliveryStreamResponse> CreateAsync(CreateDeliveryStreamRequest request, CancellationToken cancellationToken)
    {
        Check(DeliveryStreamRules.ValidateName(request.DeliveryStreamName));
        var destination = Normalize(request.DeliveryStreamName, request.Destination);
        var position = request.InitialPosition == InitialPosition.Unspecified ? InitialPosition.TrimHorizon : request.InitialPosition;
        if (position is not (InitialPosition.TrimHorizon or InitialPosition.Latest))
        {
            throw StreamsApiException.InvalidArgument($"initial_position {(int)request.InitialPosition} is not INITIAL_POSITION_TRIM_HORIZON or INITIAL_POSITION_LATEST.");
        }

        await streams.FindStreamAsync(request.SourceStreamName, cancellationToken).ConfigureAwait(false);
        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            CreateDeliveryStream = new CreateDeliveryStreamCommand
            {
                DeliveryStreamName = request.DeliveryStreamName,
                SourceStreamName = request.SourceStreamName,
                Destination = destination,
                InitialPosition = (int)position,
                TimestampUnixMs = Now(),
            },
        }, cancellationToken).ConfigureAwait(false);
        return new CreateDeliveryStreamResponse();
    }

    /// <summary>DescribeDeliveryStream.</summary>
    public async Task<DescribeDeliveryStreamResponse> DescribeAsync(DescribeDeliveryStreamRequest request, CancellationToken cancellationToken)
    {
        var (metadata, record) = await FindAsync(request.DeliveryStreamName, cancellationToken).ConfigureAwait(false);
        return new DescribeDeliveryStreamResponse { DeliveryStreamDescription = Describe(metadata, record, time.GetUtcNow()) };
    }

    /// <summary>ListDeliveryStreams.</summary>
    public ListDeliveryStreamsResponse List(ListDeliveryStreamsRequest request)
    {
        var limit = request.Limit == 0 ? DefaultListLimit : request.Limit;
        if (limit is < 1 or > MaxListLimit)
        {
            throw StreamsApiException.InvalidArgument($"limit is {request.Limit}; use 1 to {MaxListLimit} (0 means {DefaultListLimit}).");
        }

        var after = request.ExclusiveStartDeliveryStreamName;
        var names = cluster.Metadata.DeliveryStreams.Keys
            .Where(name => after.Length == 0 || string.CompareOrdinal(name, after) > 0)
            .Take(limit + 1)
            .ToList();
        var response = new ListDeliveryStreamsResponse { HasMoreDeliveryStreams = names.Count > limit };
        response.DeliveryStreamNames.AddRange(names.Take(limit));
        return response;
    }

    /// <summary>UpdateDestination.</summary>
    public async Task<UpdateDestinationResponse> UpdateDestinationAsync(UpdateDestinationRequest request, CancellationToken cancellationToken)
    {
        var (_, record) = await FindAsync(request.DeliveryStreamName, cancellationToken).ConfigureAwait(false);
        if (request.Destination is null)
        {
            throw StreamsApiException.InvalidArgument("destination is required: give the whole new destination (DescribeDeliveryStream shows the current one).");
        }

        var destination = Normalize(record.Name, request.Destination);
        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            UpdateDestination = new UpdateDestinationCommand
            {
                DeliveryStreamName = record.Name,
                CurrentVersionId = request.CurrentVersionId,
                Destination = destination,
                TimestampUnixMs = Now(),
            },
        }, cancellationToken).ConfigureAwait(false);
        var version = cluster.Metadata.DeliveryStreams.TryGetValue(record.Name, out var updated) ? updated.VersionId : request.CurrentVersionId + 1;
        return new UpdateDestinationResponse { VersionId = version };
    }

    /// <summary>DeleteDeliveryStream.</summary>
    public async Task<DeleteDeliveryStreamResponse> DeleteAsync(DeleteDeliveryStreamRequest request, CancellationToken cancellationToken)
    {
        var (_, record) = await FindAsync(request.DeliveryStreamName, cancellationToken).ConfigureAwait(false);
        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            DeleteDeliveryStream = new DeleteDeliveryStreamCommand { DeliveryStreamName = record.Name, TimestampUnixMs = Now() },
        }, cancellationToken).ConfigureAwait(false);
        return new DeleteDeliveryStreamResponse();
    }

    /// <summary>
    /// What DescribeDeliveryStream answers: the record, its destination without secrets, and per
    /// shard of the source the group's checkpoint and lease with the workers' last report.
    /// </summary>
    public static DeliveryStreamDescription Describe(ClusterMetadata metadata, DeliveryStreamRecord record, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(record);
        var description = new DeliveryStreamDescription
        {
            DeliveryStreamName = record.Name,
            SourceStreamName = record.SourceStreamName,
            Status = DeliveryStreamStatus.Active,
            Destination = DeliveryStreamRules.Redacted(record.ParseDestination()),
            VersionId = record.VersionId,
            InitialPosition = record.InitialPosition,
            CreateTimestamp = Timestamp.FromDateTimeOffset(record.CreatedAt),
            LastUpdateTimestamp = Timestamp.FromDateTimeOffset(record.UpdatedAt),
            ConsumerGroupName = record.ConsumerGroupName,
        };
        if (!metadata.TryGetStream(record.SourceStreamName, out var source))
        {
            return description;
        }

        source.ConsumerGroups.TryGetValue(record.ConsumerGroupName, out var group);
        foreach (var shard in source.Shards)
        {
            var state = group?.ShardState(shard.ShardId);
            var progress = record.ProgressOf(shard.ShardId);
            var owner = state?.Owner is { } member && group!.Members.TryGetValue(member, out var holder) && holder.ExpiresAt >= now ? member : null;
            var status = new DeliveryShardStatus
            {
                ShardId = shard.ShardId,
                Worker = owner is null ? "" : DeliveryStreamRules.NodeOf(owner),
                DeliveredSequenceNumber = state?.Checkpoint?.ToString() ?? "",
                PendingSequenceNumber = state?.Pending?.ToString() ?? "",
                ShardEnd = state?.ShardEnd ?? false,

                // A shard nobody holds has no fresh figure: its lag is what was last reported.
                LagMillis = state?.ShardEnd == true ? 0 : progress.LagMillis,
                LagRecords = state?.ShardEnd == true ? 0 : progress.LagRecords,
                ObjectsDelivered = progress.ObjectsDelivered,
                RecordsDelivered = progress.RecordsDelivered,
                BytesDelivered = progress.BytesDelivered,
                RecordsFailed = progress.RecordsFailed,
                UploadFailures = progress.UploadFailures,
                LastError = progress.LastError,
            };
            if (progress.LastErrorAt is { } errorAt)
            {
                status.LastErrorAt = Timestamp.FromDateTimeOffset(errorAt);
            }

            if (progress.ReportedAt is { } reportedAt)
            {
                status.ReportedAt = Timestamp.FromDateTimeOffset(reportedAt);
            }

            description.Shards.Add(status);
            description.LagMillis = Math.Max(description.LagMillis, status.LagMillis);
            description.LagRecords += status.LagRecords;
            description.ObjectsDelivered += status.ObjectsDelivered;
            description.RecordsDelivered += status.RecordsDelivered;
            description.BytesDelivered += status.BytesDelivered;
            description.RecordsFailed += status.RecordsFailed;
            description.UploadFailures += status.UploadFailures;
        }

        return description;
    }

    private async Task<(ClusterMetadata Metadata, DeliveryStreamRecord Record)> FindAsync(string name, CancellationToken cancellationToken)
    {
        Check(DeliveryStreamRules.ValidateName(name));
        var metadata = cluster.Metadata;
        if (metadata.DeliveryStreams.TryGetValue(name, out var record))
        {
            return (metadata, record);
        }

        metadata = await streams.ReadLatestAsync($"Delivery stream '{name}'", cancellationToken).ConfigureAwait(false);
        return metadata.DeliveryStreams.TryGetValue(name, out record)
            ? (metadata, record)
            : throw StreamsApiException.NotFound($"Delivery stream '{name}' was not found; create it with CreateDeliveryStream, or check the name (ListDeliveryStreams lists them).");
    }

    private static ByteString Normalize(string name, DeliveryDestination? destination)
    {
        Check(DeliveryStreamRules.Normalize(name, destination, out var normalized));
        return normalized.ToByteString();
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static void Check(string? problem)
    {
        if (problem is not null)
        {
            throw StreamsApiException.InvalidArgument(problem);
        }
    }
}
