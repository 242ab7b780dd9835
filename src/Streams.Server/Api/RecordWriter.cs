using Streams.Client.Api;
using Streams.Raft.Runtime;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.Server.Cluster;
using Streams.Server.Metadata;
using Streams.Server.Routing;
using Streams.Server.Shards;
using Streams.Storage.Batches;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// Writes records (PutRecord, PutRecords, Produce): routes each by its hash key to an open shard,
/// appends one batch per shard on the shard's leader (here, or forwarded in one hop) and answers
/// per record once a majority holds it. Records certainly not written (no leader yet, a leader
/// change before proposing, a shard closed by resharding) are routed and tried again until the
/// deadline; a write that may have landed is tried again only for an idempotent producer, whose
/// retry cannot land twice. Whatever is left fails per record, never silently.
/// </summary>
internal sealed partial class RecordWriter(StreamsCluster cluster, StreamAdministration administration, TimeProvider time, ILogger<RecordWriter> logger)
{
    // Without a deadline from the caller, writes are retried this long.
    private static readonly TimeSpan _defaultRetryBudget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan _retryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Writes the records of a request; one result per record, in order.</summary>
    /// <param name="streamName">The stream.</param>
    /// <param name="records">The records, not yet checked.</param>
    /// <param name="producerId">The idempotent producer, or 0.</param>
    /// <param name="producerSequence">Its batch sequence for the shard.</param>
    /// <param name="forwarded">The request came from another node: write here or refuse, never forward.</param>
    /// <param name="single">PutRecord: field names in messages are not indexed.</param>
    /// <param name="cancellationToken">The caller's deadline or cancellation.</param>
    public async Task<PutRecordsResponse> WriteAsync(string streamName, IReadOnlyList<PutRecordsRequestEntry> records, ulong producerId, long producerSequence, bool forwarded, bool single, CancellationToken cancellationToken)
    {
        var keys = PutRequestRules.Check(records, producerId, producerSequence, cluster.Limits, single);
        var stream = await administration.FindStreamAsync(streamName, cancellationToken).ConfigureAwait(false);
        var results = new PutRecordsResultEntry?[records.Count];
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_defaultRetryBudget);
        var waiting = Enumerable.Range(0, records.Count).ToList();
        var ambiguous = new List<int>();
        string? lastProblem = null;
        try
        {
            while (waiting.Count > 0)
            {
                if (stream.Status == StreamStatus.Deleting)
                {
                    throw StreamsApiException.NotFound($"Stream '{streamName}' is being deleted.");
                }

                var byShard = waiting.GroupBy(i => stream.Router.Route(keys[i].Key)).ToList();
                if (producerId != 0 && byShard.Count > 1)
                {
                    throw StreamsApiException.InvalidArgument($"An idempotent write (producer_id set) must go to one shard, but its records map to {string.Join(" and ", byShard.Select(g => g.Key.ShardId))}; send one request per shard (the shard map comes from ListShards).");
                }

                var attempts = byShard.Select(g => WriteToShardAsync(stream, g.Key, [.. g], records, keys, producerId, (int)producerSequence, forwarded, results, budget.Token)).ToList();
                await Task.WhenAll(attempts).ConfigureAwait(false);
                waiting.Clear();
                for (var i = 0; i < attempts.Count; i++)
                {
                    var (outcome, problem) = attempts[i].Result;
                    if (outcome == ShardWriteOutcome.Written)
                    {
                        continue;
                    }

                    lastProblem = problem;
                    if (outcome == ShardWriteOutcome.Ambiguous && producerId == 0)
                    {
                        ambiguous.AddRange(byShard[i]);
                    }
                    else
                    {
                        waiting.AddRange(byShard[i]);
                    }
                }

                if (waiting.Count > 0)
                {
                    if (forwarded)
                    {
                        // The origin node retries with its own view of the leaders: one hop only.
                        throw StreamsApiException.Unavailable($"This node cannot write to stream '{streamName}' now: {lastProblem}");
                    }

                    await Task.Delay(_retryDelay, time, budget.Token).ConfigureAwait(false);
                    stream = cluster.Metadata.TryGetStream(streamName, out var current) ? current : stream;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Out of retry budget: what is left fails per record below.
        }

        foreach (var i in waiting)
        {
            results[i] = Failure(StreamsErrors.Unavailable, $"Not written: {lastProblem ?? "no shard leader could be reached"}; retry.");
        }

        foreach (var i in ambiguous)
        {
            results[i] = Failure(StreamsErrors.Unavailable, $"The write may or may not have landed ({lastProblem}); retry it, with an idempotent producer (producer_id) to be sure it lands once.");
        }

        var response = new PutRecordsResponse();
        foreach (var result in results)
        {
            response.Records.Add(result!);
            if (result!.ErrorCode.Length > 0)
            {
                response.FailedRecordCount++;
            }
        }

        return response;
    }

    private async Task<(ShardWriteOutcome Outcome, string? Problem)> WriteToShardAsync(
        StreamRecord stream,
        ShardRecord shard,
        List<int> indices,
        IReadOnlyList<PutRecordsRequestEntry> records,
        (UInt128 Key, bool Explicit)[] keys,
        ulong producerId,
        int producerSequence,
        bool forwarded,
        PutRecordsResultEntry?[] results,
        CancellationToken cancellationToken)
    {
        // A child shard takes writes only once its parents are sealed, so that a partition key's
        // records in the parent all come before those in the child.
        foreach (var parent in shard.ParentShardIds)
        {
            if (stream.TryGetShard(parent, out var parentShard) && parentShard.EndingSequenceNumber is null)
            {
                return (ShardWriteOutcome.Retry, $"shard {shard.ShardId} waits for its parent {parent} to be sealed");
            }
        }

        var local = cluster.Shards?.Find(shard.GroupId);
        if (local is not null && local.Group.Status.IsLeader)
        {
            return await AppendLocallyAsync(local, shard, indices, records, keys, producerId, producerSequence, results, cancellationToken).ConfigureAwait(false);
        }

        if (forwarded)
        {
            return (ShardWriteOutcome.Retry, $"this node does not lead shard {shard.ShardId}");
        }

        var leader = LeaderOf(local, shard);
        if (leader is null)
        {
            return (ShardWriteOutcome.Retry, $"shard {shard.ShardId} has no known leader yet");
        }

        var request = new PutRecordsRequest { StreamName = stream.Name, ProducerId = producerId, ProducerSequence = producerSequence };
        foreach (var i in indices)
        {
            request.Records.Add(records[i]);
        }

        PutRecordsResponse response;
        try
        {
            using var call = cluster.Peers.Get(leader)
                .UnaryCall(StreamsMethods.PutRecords, request, new CallOptions { Headers = RequestHeaders.ForwardedHeaders(), CancellationToken = cancellationToken });
            response = await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable
            && (ex.Trailers.GetValue(StreamsErrors.TrailerName) is not null || ex.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }))
        {
            // The other node refused before writing anything, or could not be connected to.
            return (ShardWriteOutcome.Retry, ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Unknown
            && !cancellationToken.IsCancellationRequested)
        {
            ForwardFailed(logger, shard.ShardId, leader.ToString(), ex.Status.Detail);
            return (ShardWriteOutcome.Ambiguous, $"node {leader} failed during the write: {ex.Status.Detail}");
        }

        for (var j = 0; j < indices.Count; j++)
        {
            results[indices[j]] = response.Records[j];
        }

        return (ShardWriteOutcome.Written, null);
    }

    private async Task<(ShardWriteOutcome Outcome, string? Problem)> AppendLocallyAsync(
        ShardReplica replica,
        ShardRecord shard,
        List<int> indices,
        IReadOnlyList<PutRecordsRequestEntry> records,
        (UInt128 Key, bool Explicit)[] keys,
        ulong producerId,
        int producerSequence,
        PutRecordsResultEntry?[] results,
        CancellationToken cancellationToken)
    {
        byte[] batch;
        using (var builder = new BatchBuilder())
        {
            builder.Reset(0, 0, BatchCodec.None, producerId == 0 ? -1 : (long)producerId, -1, producerId == 0 ? -1 : producerSequence);
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var i in indices)
            {
                var record = records[i];
                builder.Add(record.PartitionKey, keys[i].Explicit ? keys[i].Key : null, record.Data.Span, now);
            }

            // Raft keeps the entry after the call returns (for followers still catching up), so it
            // gets its own array rather than the builder's pooled buffer.
            batch = builder.Build().ToArray();
        }

        try
        {
            var index = await replica.AppendAsync(batch, producerId, producerSequence, cancellationToken).ConfigureAwait(false);
            for (var j = 0; j < indices.Count; j++)
            {
                results[indices[j]] = new PutRecordsResultEntry { ShardId = shard.ShardId, SequenceNumber = new SequenceNumber(index, j).ToString() };
            }

            return (ShardWriteOutcome.Written, null);
        }
        catch (ShardClosedException ex)
        {
            return (ShardWriteOutcome.Retry, ex.Message);
        }
        catch (NotLeaderException ex)
        {
            return (ex.MayHaveCommitted ? ShardWriteOutcome.Ambiguous : ShardWriteOutcome.Retry, $"the leader of shard {shard.ShardId} changed");
        }
        catch (ProposalDroppedException)
        {
            return (ShardWriteOutcome.Retry, $"the leader of shard {shard.ShardId} changed");
        }
        catch (RaftGroupStoppedException ex)
        {
            return (ShardWriteOutcome.Ambiguous, ex.Message);
        }
        catch (TimeoutException ex)
        {
            return (ShardWriteOutcome.Retry, ex.Message);
        }
    }

    private Uri? LeaderOf(ShardReplica? local, ShardRecord shard)
    {
        var raftLeader = local?.Group.Status.Leader ?? 0;
        if (raftLeader != 0 && raftLeader != cluster.RaftId && cluster.Directory.AddressOf(raftLeader) is { } known)
        {
            return known;
        }

        var name = shard.Leader ?? shard.PreferredLeader;
        return name == cluster.NodeId ? null : cluster.Directory.AddressOf(name);
    }

    private static PutRecordsResultEntry Failure(string code, string message) => new() { ErrorCode = code, ErrorMessage = message };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A write forwarded for shard {Shard} to {Leader} failed: {Detail}")]
    private static partial void ForwardFailed(ILogger logger, string shard, string leader, string detail);
}
