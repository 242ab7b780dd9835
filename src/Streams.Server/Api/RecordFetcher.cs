using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.Server.Cluster;
using Streams.Server.Metadata;
using Streams.Server.Routing;
using Streams.Server.Shards;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// Reads records (GetShardIterator, GetRecords, SubscribeToShard) from this node's replica of the
/// shard, up to its committed records; a node without a replica forwards the request in one hop
/// to a node with one (the shard's leader when known).
/// </summary>
internal sealed class RecordFetcher(StreamsCluster cluster, StreamAdministration administration, StreamsApiMetrics metrics, TimeProvider time)
{
    // How long SubscribeToShard waits for records before sending an event without any.
    private static readonly TimeSpan _heartbeat = TimeSpan.FromSeconds(5);

    // How long a follower waits to learn the shard's commit index before serving what it has.
    private static readonly TimeSpan _catchUpTimeout = TimeSpan.FromSeconds(1);

    // Bytes per SubscribeToShard event.
    private const int EventBytes = 1024 * 1024;

    /// <summary>GetShardIterator.</summary>
    public async Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, bool forwarded, CancellationToken cancellationToken)
    {
        var (stream, shard) = await FindShardAsync(request.StreamName, request.ShardId, "shard_id", cancellationToken).ConfigureAwait(false);
        var start = new StartingPosition { Type = request.ShardIteratorType, SequenceNumber = request.StartingSequenceNumber, Timestamp = request.Timestamp };
        CheckStart(start, "shard_iterator_type", "starting_sequence_number", "timestamp");
        var replica = cluster.Shards?.Find(shard.GroupId);
        if (replica is null)
        {
            if (forwarded)
            {
                throw StreamsApiException.Unavailable($"This node holds no replica of {stream.Name}/{shard.ShardId}; retry.");
            }

            using var call = ForwardTo(shard).UnaryCall(StreamsMethods.GetShardIterator, request, Forwarded(cancellationToken));
            return await call.ResponseAsync.ConfigureAwait(false);
        }

        var caughtUp = await CatchUpAsync(replica, BeyondApplied(replica, start), cancellationToken).ConfigureAwait(false);
        var (position, minArrival) = Resolve(replica, start, "starting_sequence_number", caughtUp);
        return new GetShardIteratorResponse { ShardIterator = Codec().Encode(stream.StreamId, shard.GroupId, position, minArrival) };
    }

    /// <summary>GetRecords.</summary>
    public async Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, bool forwarded, CancellationToken cancellationToken)
    {
        var limits = cluster.Limits;
        if (request.Limit is < 0 || request.Limit > limits.MaxRecordsPerGet)
        {
            throw StreamsApiException.InvalidArgument($"limit is {request.Limit}; use 1 to {limits.MaxRecordsPerGet} (0 means {limits.MaxRecordsPerGet}).");
        }

        var codec = Codec();
        var iterator = codec.Decode(request.ShardIterator);
        if (!cluster.Metadata.TryGetShard(iterator.GroupId, out var stream, out var shard) || stream.StreamId != iterator.StreamId)
        {
            throw StreamsApiException.NotFound("The shard of this iterator no longer exists (its stream was deleted).");
        }

        var replica = cluster.Shards?.Find(shard.GroupId);
        if (replica is null)
        {
            if (forwarded)
            {
                throw StreamsApiException.Unavailable($"This node holds no replica of {stream.Name}/{shard.ShardId}; retry.");
            }

            using var call = ForwardTo(shard).UnaryCall(StreamsMethods.GetRecords, request, Forwarded(cancellationToken));
            return await call.ResponseAsync.ConfigureAwait(false);
        }

        var started = StreamsApiMetrics.Now();
        var limit = request.Limit == 0 ? limits.MaxRecordsPerGet : request.Limit;
        await CatchUpAsync(replica, confirmLeadership: false, cancellationToken).ConfigureAwait(false);
        var read = replica.Read(iterator.Position, limit, limits.MaxBytesPerGet, iterator.MinArrivalMs);
        var response = new GetRecordsResponse { MillisBehindLatest = read.MillisBehindLatest };
        response.Records.AddRange(read.Records);
        if (read.EndOfShard)
        {
            response.ChildShards.AddRange(ShardDescriptions.ChildrenOf(stream, shard.ShardId));
        }
        else
        {
            var minArrival = read.Records.Count == 0 ? iterator.MinArrivalMs : 0;
            response.NextShardIterator = codec.Encode(stream.StreamId, shard.GroupId, read.Next, minArrival);
        }

        metrics.RecordGet(stream.Name, response.Records, started);
        return response;
    }

    /// <summary>SubscribeToShard: events until the caller leaves, or the shard is closed and read to its end.</summary>
    public async Task SubscribeAsync(SubscribeToShardRequest request, IServerStreamWriter<SubscribeToShardEvent> events, bool forwarded, CancellationToken cancellationToken)
    {
        var (stream, shard) = await FindShardAsync(request.StreamName, request.ShardId, "shard_id", cancellationToken).ConfigureAwait(false);
        var start = request.StartingPosition ?? throw StreamsApiException.InvalidArgument("starting_position is missing; say where to start (TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP).");
        CheckStart(start, "starting_position.type", "starting_position.sequence_number", "starting_position.timestamp");
        var replica = cluster.Shards?.Find(shard.GroupId);
        if (replica is null)
        {
            if (forwarded)
            {
                throw StreamsApiException.Unavailable($"This node holds no replica of {stream.Name}/{shard.ShardId}; retry.");
            }

            using var call = ForwardTo(shard).ServerStreamingCall(StreamsMethods.SubscribeToShard, request, Forwarded(cancellationToken));
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                await events.WriteAsync(call.ResponseStream.Current, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var caughtUp = await CatchUpAsync(replica, BeyondApplied(replica, start), cancellationToken).ConfigureAwait(false);
        var (position, minArrival) = Resolve(replica, start, "starting_position.sequence_number", caughtUp);
        // Until a record comes, a subscriber resuming after a sequence number resumes there again
        // (an empty continuation would lose its place).
        var continuation = start.Type == ShardIteratorType.AfterSequenceNumber ? start.SequenceNumber : "";
        while (!cancellationToken.IsCancellationRequested)
        {
            var read = replica.Read(position, cluster.Limits.MaxRecordsPerGet, EventBytes, minArrival);
            if (read.Records.Count > 0)
            {
                continuation = read.Records[^1].SequenceNumber;
                minArrival = 0;
            }

            position = read.Next;
            if (read.Records.Count > 0 || read.EndOfShard)
            {
                var update = new SubscribeToShardEvent { ContinuationSequenceNumber = continuation, MillisBehindLatest = read.MillisBehindLatest };
                update.Records.AddRange(read.Records);
                if (read.EndOfShard)
                {
                    update.ChildShards.AddRange(ShardDescriptions.ChildrenOf(cluster.Metadata.TryGetStream(stream.Name, out var now) ? now : stream, shard.ShardId));
                    await events.WriteAsync(update, cancellationToken).ConfigureAwait(false);
                    return;
                }

                await events.WriteAsync(update, cancellationToken).ConfigureAwait(false);
                continue;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(_heartbeat);
            try
            {
                await replica.WaitForCommitAsync(Math.Max(replica.State.AppliedIndex, position.Index - 1), wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await events.WriteAsync(new SubscribeToShardEvent { ContinuationSequenceNumber = continuation }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // A follower applies what the leader committed a little later; a reader who was just told a
    // record was written must find it on any node. So a follower first asks the leader how far the
    // shard is committed (ReadIndex) and waits until it applied that far. Without an answer in
    // time (no leader now) it serves what it has.
    // Whether the replica is known to hold everything the shard's leader committed when asked. A
    // leader is taken at its word unless <paramref name="confirmLeadership"/>: one cut off from its
    // followers may have been replaced without knowing it yet, and only a ReadIndex tells.
    private static async Task<bool> CatchUpAsync(ShardReplica replica, bool confirmLeadership, CancellationToken cancellationToken)
    {
        if (replica.Group.Status.IsLeader && !confirmLeadership)
        {
            return true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_catchUpTimeout);
        try
        {
            await replica.Group.ReadIndexAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or Raft.Runtime.NotLeaderException or Raft.Runtime.RaftGroupStoppedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private async Task<(StreamRecord Stream, ShardRecord Shard)> FindShardAsync(string streamName, string shardId, string field, CancellationToken cancellationToken)
    {
        var stream = await administration.FindStreamAsync(streamName, cancellationToken).ConfigureAwait(false);
        if (shardId.Length == 0)
        {
            throw StreamsApiException.InvalidArgument($"{field} is empty; name a shard such as shardId-000000000000 (ListShards lists them).");
        }

        if (!ShardIds.TryParse(shardId, out _))
        {
            throw StreamsApiException.InvalidArgument(ShardIds.ParseError(field, shardId));
        }

        return stream.TryGetShard(shardId, out var shard)
            ? (stream, shard)
            : throw StreamsApiException.NotFound($"Shard {shardId} was not found in stream '{stream.Name}'; ListShards lists its shards.");
    }

    private static void CheckStart(StartingPosition start, string typeField, string sequenceField, string timestampField)
    {
        var needsSequence = start.Type is ShardIteratorType.AtSequenceNumber or ShardIteratorType.AfterSequenceNumber;
        var needsTime = start.Type == ShardIteratorType.AtTimestamp;
        if (start.Type is ShardIteratorType.Unspecified || !System.Enum.IsDefined(start.Type))
        {
            throw StreamsApiException.InvalidArgument($"{typeField} is {ProtoName(start.Type)}; use TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP.");
        }

        if (needsSequence && start.SequenceNumber.Length == 0)
        {
            throw StreamsApiException.InvalidArgument($"{sequenceField} is empty; {ProtoName(start.Type)} needs the sequence number of a record of this shard.");
        }

        if (!needsSequence && start.SequenceNumber.Length > 0)
        {
            throw StreamsApiException.InvalidArgument($"{sequenceField} is set, but {ProtoName(start.Type)} does not use it; use AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER, or leave it empty.");
        }

        if (needsTime != (start.Timestamp is not null))
        {
            throw StreamsApiException.InvalidArgument(needsTime
                ? $"{timestampField} is missing; AT_TIMESTAMP needs the time to start from."
                : $"{timestampField} is set, but {ProtoName(start.Type)} does not use it; use AT_TIMESTAMP, or leave it unset.");
        }
    }

    // The name an iterator type has in the API (AT_SEQUENCE_NUMBER), for messages.
    private static string ProtoName(ShardIteratorType type) => type switch
    {
        ShardIteratorType.Unspecified => "SHARD_ITERATOR_TYPE_UNSPECIFIED",
        ShardIteratorType.TrimHorizon => "TRIM_HORIZON",
        ShardIteratorType.Latest => "LATEST",
        ShardIteratorType.AtSequenceNumber => "AT_SEQUENCE_NUMBER",
        ShardIteratorType.AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER",
        ShardIteratorType.AtTimestamp => "AT_TIMESTAMP",
        _ => ((int)type).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    // A starting sequence number past what this replica applied: it is refused only once the
    // replica is known to be current (a deposed leader's or a lagging follower's copy is not).
    private static bool BeyondApplied(ShardReplica replica, StartingPosition start) =>
        start.Type is ShardIteratorType.AtSequenceNumber or ShardIteratorType.AfterSequenceNumber
        && SequenceNumber.TryParse(start.SequenceNumber, out var sequence)
        && sequence.Index > replica.State.AppliedIndex;

    // Where a starting position points in the replica, and the arrival time records must reach.
    // A sequence number beyond a replica that could not confirm it is caught up (cut off from the
    // shard's leader) may well be a record the leader wrote: retry, rather than a lasting refusal.
    private static (SequenceNumber Position, long MinArrivalMs) Resolve(ShardReplica replica, StartingPosition start, string sequenceField, bool caughtUp)
    {
        switch (start.Type)
        {
            case ShardIteratorType.TrimHorizon:
                return (new SequenceNumber(0, 0), 0);
            case ShardIteratorType.Latest:
                return (new SequenceNumber(replica.State.AppliedIndex + 1, 0), 0);
            case ShardIteratorType.AtTimestamp:
                var at = start.Timestamp.ToDateTimeOffset().ToUnixTimeMilliseconds();
                var index = replica.Log.Segments.FindIndexByTimestamp(at) ?? replica.State.AppliedIndex + 1;
                return (new SequenceNumber(index, 0), at);
            default:
                if (!SequenceNumber.TryParse(start.SequenceNumber, out var sequence))
                {
                    throw StreamsApiException.InvalidArgument(SequenceNumber.ParseError(sequenceField, start.SequenceNumber));
                }

                if (sequence.Index > replica.State.AppliedIndex && !caughtUp)
                {
                    throw StreamsApiException.Unavailable($"{sequenceField} {start.SequenceNumber} is beyond this node's replica of shard {replica.Identity.ShardId}, which could not confirm it is caught up with the shard's leader; retry.");
                }

                if (sequence.Index > replica.State.AppliedIndex)
                {
                    throw new StreamsApiException(StatusCode.InvalidArgument, StreamsErrors.InvalidArgument, $"{sequenceField} {start.SequenceNumber} is beyond the last record of shard {replica.Identity.ShardId}; it did not come from this shard.");
                }

                if (start.Type == ShardIteratorType.AtSequenceNumber)
                {
                    return (sequence, 0);
                }

                return (sequence.Position == SequenceNumber.MaxPosition ? new SequenceNumber(sequence.Index + 1, 0) : new SequenceNumber(sequence.Index, sequence.Position + 1), 0);
        }
    }

    private RpcChannel ForwardTo(ShardRecord shard)
    {
        foreach (var name in new[] { shard.Leader }.Concat(shard.Replicas))
        {
            if (name is not null && name != cluster.NodeId && cluster.Directory.AddressOf(name) is { } address)
            {
                return cluster.Peers.Get(address);
            }
        }

        throw StreamsApiException.Unavailable($"No node holding shard {shard.ShardId} is known yet; retry.");
    }

    private static CallOptions Forwarded(CancellationToken cancellationToken) => new() { Headers = RequestHeaders.ForwardedHeaders(), CancellationToken = cancellationToken };

    private ShardIteratorCodec Codec()
    {
        var secret = cluster.Metadata.IteratorSecret;
        return secret.IsDefaultOrEmpty
            ? throw StreamsApiException.Unavailable("The cluster is forming; retry.")
            : new ShardIteratorCodec(secret.AsSpan(), time);
    }
}
