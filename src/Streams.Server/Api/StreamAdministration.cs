using Google.Protobuf.WellKnownTypes;
using Streams.Server.Cluster;
using Streams.Server.Metadata;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// The stream operations of the API that read or change the controller's metadata: changes go to
/// the controller's leader (<see cref="Controller.ControllerProposer"/>), reads come from this
/// node's copy, made linearizable when a stream is not found in it (it may have just been created
/// through another node).
/// </summary>
internal sealed class StreamAdministration(StreamsCluster cluster, TimeProvider time)
{
    private const int DefaultListStreamsLimit = 100;
    private const int DefaultListShardsLimit = 1000;
    private const int MaxPageSize = 10_000;

    /// <summary>CreateStream.</summary>
    public async Task<CreateStreamResponse> CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken)
    {
        CheckName(request.StreamName);
        if (request.ShardCount < 1)
        {
            throw StreamsApiException.InvalidArgument($"shard_count is {request.ShardCount}; a stream needs at least 1 shard (at most {cluster.Metadata.Limits.MaxShardsPerStream}).");
        }

        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            CreateStream = new CreateStreamCommand
            {
                StreamName = request.StreamName,
                ShardCount = request.ShardCount,
                ReplicationFactor = request.ReplicationFactor,
                RetentionPeriodHours = request.RetentionPeriodHours,
                TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            },
        }, cancellationToken).ConfigureAwait(false);
        return new CreateStreamResponse();
    }

    /// <summary>DeleteStream.</summary>
    public async Task<DeleteStreamResponse> DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken)
    {
        await FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await cluster.Proposer.ProposeAsync(new ControllerCommand { DeleteStream = new DeleteStreamCommand { StreamName = request.StreamName } }, cancellationToken).ConfigureAwait(false);
        return new DeleteStreamResponse();
    }

    /// <summary>ListStreams.</summary>
    public ListStreamsResponse ListStreams(ListStreamsRequest request)
    {
        var limit = PageSize(request.Limit, DefaultListStreamsLimit, "limit");
        var after = request.ExclusiveStartStreamName;
        if (request.NextToken.Length > 0)
        {
            if (after.Length > 0)
            {
                throw StreamsApiException.InvalidArgument("next_token and exclusive_start_stream_name are both set; use next_token alone to go on from a previous page.");
            }

            after = PageTokens.Decode(request.NextToken, 1)[0];
        }

        var page = cluster.Metadata.ListStreams(after.Length > 0 ? after : null, limit);
        var response = new ListStreamsResponse { HasMoreStreams = page.HasMore };
        foreach (var stream in page.Streams)
        {
            response.StreamNames.Add(stream.Name);
            response.StreamSummaries.Add(new StreamSummary
            {
                StreamName = stream.Name,
                StreamStatus = stream.Status,
                StreamCreationTimestamp = Timestamp.FromDateTimeOffset(stream.CreatedAt),
            });
        }

        if (page.HasMore && page.Streams.Length > 0)
        {
            response.NextToken = PageTokens.Encode(page.Streams[^1].Name);
        }

        return response;
    }

    /// <summary>DescribeStreamSummary.</summary>
    public async Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken)
    {
        var stream = await FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        return new DescribeStreamSummaryResponse
        {
            StreamDescriptionSummary = new StreamDescriptionSummary
            {
                StreamName = stream.Name,
                StreamStatus = stream.Status,
                RetentionPeriodHours = stream.RetentionHours,
                StreamCreationTimestamp = Timestamp.FromDateTimeOffset(stream.CreatedAt),
                OpenShardCount = stream.OpenShardCount,
                ReplicationFactor = stream.ReplicationFactor,
                ShardCount = stream.Shards.Length,
            },
        };
    }

    /// <summary>ListShards.</summary>
    public async Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken)
    {
        var limit = PageSize(request.MaxResults, DefaultListShardsLimit, "max_results");
        string name;
        string? after = request.ExclusiveStartShardId.Length > 0 ? request.ExclusiveStartShardId : null;
        long? streamId = null;
        var filter = request.ShardFilter;
        if (request.NextToken.Length > 0)
        {
            if (request.StreamName.Length > 0 || after is not null || filter is not null)
            {
                throw StreamsApiException.InvalidArgument("next_token is set with stream_name, exclusive_start_shard_id or shard_filter; send next_token alone (and max_results) to go on from a previous page.");
            }

            var parts = PageTokens.Decode(request.NextToken, 5);
            name = parts[0];
            streamId = long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : throw StreamsApiException.InvalidArgument("next_token is not one this API returned.");
            after = parts[2];
            filter = parts[3].Length == 0 ? null : DecodeFilter(parts[3]);
        }
        else
        {
            name = request.StreamName;
        }

        var stream = await FindStreamAsync(name, cancellationToken).ConfigureAwait(false);
        if (streamId is { } expected && expected != stream.StreamId)
        {
            throw StreamsApiException.InvalidArgument($"next_token belongs to an earlier stream named '{name}' that was deleted; list the shards again without next_token.");
        }

        var listFilter = ToListFilter(filter);
        var shards = stream.ListShards(listFilter, after, time.GetUtcNow()).Take(limit + 1).ToList();
        var response = new ListShardsResponse();
        response.Shards.AddRange(shards.Take(limit).Select(ShardDescriptions.ToShard));
        if (shards.Count > limit)
        {
            var encodedFilter = filter is null ? "" : Convert.ToBase64String(Google.Protobuf.MessageExtensions.ToByteArray(filter));
            response.NextToken = PageTokens.Encode(stream.Name, stream.StreamId.ToString(System.Globalization.CultureInfo.InvariantCulture), shards[limit - 1].ShardId, encodedFilter, "");
        }

        return response;
    }

    /// <summary>SplitShard.</summary>
    public async Task<SplitShardResponse> SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken)
    {
        await FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            SplitShard = new SplitShardCommand
            {
                StreamName = request.StreamName,
                ShardToSplit = request.ShardToSplit,
                NewStartingHashKey = request.NewStartingHashKey,
                TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            },
        }, cancellationToken).ConfigureAwait(false);
        return new SplitShardResponse();
    }

    /// <summary>MergeShards.</summary>
    public async Task<MergeShardsResponse> MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken)
    {
        await FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            MergeShards = new MergeShardsCommand
            {
                StreamName = request.StreamName,
                ShardToMerge = request.ShardToMerge,
                AdjacentShardToMerge = request.AdjacentShardToMerge,
                TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            },
        }, cancellationToken).ConfigureAwait(false);
        return new MergeShardsResponse();
    }

    /// <summary>UpdateShardCount.</summary>
    public async Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken)
    {
        var stream = await FindStreamAsync(request.StreamName, cancellationToken).ConfigureAwait(false);
        if (request.ScalingType is not (ScalingType.Unspecified or ScalingType.UniformScaling))
        {
            throw StreamsApiException.InvalidArgument($"scaling_type is {request.ScalingType}; only UNIFORM_SCALING is supported.");
        }

        var current = stream.OpenShardCount;
        await cluster.Proposer.ProposeAsync(new ControllerCommand
        {
            UpdateShardCount = new UpdateShardCountCommand
            {
                StreamName = request.StreamName,
                TargetShardCount = request.TargetShardCount,
                ScalingType = (int)ScalingType.UniformScaling,
                TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            },
        }, cancellationToken).ConfigureAwait(false);
        return new UpdateShardCountResponse { StreamName = stream.Name, CurrentShardCount = current, TargetShardCount = request.TargetShardCount };
    }

    /// <summary>IncreaseStreamRetentionPeriod or DecreaseStreamRetentionPeriod.</summary>
    public async Task ChangeRetentionAsync(string streamName, int hours, bool increase, CancellationToken cancellationToken)
    {
        await FindStreamAsync(streamName, cancellationToken).ConfigureAwait(false);
        var command = new RetentionCommand { StreamName = streamName, RetentionPeriodHours = hours };
        await cluster.Proposer.ProposeAsync(increase ? new ControllerCommand { IncreaseRetention = command } : new ControllerCommand { DecreaseRetention = command }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The stream named <paramref name="name"/>: from this node's copy, or after catching it up
    /// with the controller's leader when the copy does not have it.
    /// </summary>
    /// <exception cref="StreamsApiException">INVALID_ARGUMENT for a bad name, NOT_FOUND when there is no such stream.</exception>
    public async ValueTask<StreamRecord> FindStreamAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        if (cluster.Metadata.TryGetStream(name, out var stream))
        {
            return stream;
        }

        var metadata = await ReadLatestAsync($"Stream '{name}'", cancellationToken).ConfigureAwait(false);
        if (metadata.TryGetStream(name, out stream))
        {
            return stream;
        }

        throw StreamsApiException.NotFound($"Stream '{name}' was not found; create it with CreateStream, or check the name (ListStreams lists them).");
    }

    /// <summary>
    /// The controller's state as of now (a ReadIndex through its leader), for a name this node's copy
    /// does not know yet: it may have just been created through another node.
    /// </summary>
    /// <param name="what">What was looked for, such as "Stream 'orders'", for the error when the controller cannot be asked.</param>
    /// <param name="cancellationToken">Gives up.</param>
    public async ValueTask<ClusterMetadata> ReadLatestAsync(string what, CancellationToken cancellationToken)
    {
        var controller = cluster.Controller ?? throw StreamsApiException.Unavailable("This node is starting; retry.");
        try
        {
            return await controller.ReadLinearizableAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or Raft.Runtime.NotLeaderException)
        {
            throw StreamsApiException.Unavailable($"{what} is not known on this node and the controller could not be asked ({ex.Message}); retry.");
        }
    }

    private static void CheckName(string name)
    {
        if (StreamNames.Validate(name) is { } problem)
        {
            throw StreamsApiException.InvalidArgument(problem);
        }
    }

    private static int PageSize(int requested, int fallback, string field)
    {
        if (requested == 0)
        {
            return fallback;
        }

        return requested is < 1 or > MaxPageSize
            ? throw StreamsApiException.InvalidArgument($"{field} is {requested}; use 1 to {MaxPageSize} (0 means {fallback}).")
            : requested;
    }

    // The shard filter a ListShards next_token carries; a token altered there is refused, not an internal failure.
    private static ShardFilter DecodeFilter(string encoded)
    {
        try
        {
            return ShardFilter.Parser.ParseFrom(Convert.FromBase64String(encoded));
        }
        catch (Exception ex) when (ex is FormatException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw StreamsApiException.InvalidArgument("next_token is not one this API returned; pass the next_token of the previous response unchanged.");
        }
    }

    // The name a filter type has in the API (AT_TIMESTAMP), for messages.
    private static string ProtoName(ShardFilterType type) => type switch
    {
        ShardFilterType.AfterShardId => "AFTER_SHARD_ID",
        ShardFilterType.AtTrimHorizon => "AT_TRIM_HORIZON",
        ShardFilterType.FromTrimHorizon => "FROM_TRIM_HORIZON",
        ShardFilterType.AtLatest => "AT_LATEST",
        ShardFilterType.AtTimestamp => "AT_TIMESTAMP",
        ShardFilterType.FromTimestamp => "FROM_TIMESTAMP",
        _ => ((int)type).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static ShardListFilter? ToListFilter(V1.ShardFilter? filter)
    {
        if (filter is null || filter.Type == ShardFilterType.Unspecified)
        {
            return null;
        }

        if (!System.Enum.IsDefined(filter.Type))
        {
            throw StreamsApiException.InvalidArgument($"shard_filter.type is {ProtoName(filter.Type)}; use AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP or FROM_TIMESTAMP.");
        }

        var needsShard = filter.Type == ShardFilterType.AfterShardId;
        var needsTime = filter.Type is ShardFilterType.AtTimestamp or ShardFilterType.FromTimestamp;
        if (needsShard != (filter.ShardId.Length > 0))
        {
            throw StreamsApiException.InvalidArgument(needsShard
                ? "shard_filter.shard_id is empty; AFTER_SHARD_ID needs the shard id to list after."
                : $"shard_filter.shard_id is set, but only AFTER_SHARD_ID uses it (the filter is {ProtoName(filter.Type)}).");
        }

        if (needsTime != (filter.Timestamp is not null))
        {
            throw StreamsApiException.InvalidArgument(needsTime
                ? $"shard_filter.timestamp is missing; {ProtoName(filter.Type)} needs it."
                : $"shard_filter.timestamp is set, but only AT_TIMESTAMP and FROM_TIMESTAMP use it (the filter is {ProtoName(filter.Type)}).");
        }

        return new ShardListFilter(filter.Type, needsShard ? filter.ShardId : null, filter.Timestamp?.ToDateTimeOffset());
    }
}
