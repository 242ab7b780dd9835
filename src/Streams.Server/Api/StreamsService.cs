using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// Serves <c>streams.v1.Streams</c>. Each call is handed to the part that does it (stream
/// administration, record writing, record reading); refusals become gRPC errors with the
/// Kinesis-style error name in the <c>streams-error</c> trailer, and a Raft group that lost its
/// leader or stopped becomes UNAVAILABLE, to be retried (<see cref="ApiCalls"/>).
/// </summary>
internal sealed class StreamsService(StreamAdministration administration, RecordWriter writer, RecordFetcher fetcher, StreamsApiMetrics metrics, ILogger<StreamsService> logger) : StreamsServiceBase
{
    // Batches of one Produce stream being written at once.
    private const int MaxBatchesInFlight = 64;

    /// <inheritdoc/>
    public override Task<CreateStreamResponse> CreateStream(CreateStreamRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.CreateStreamAsync(request, context.CancellationToken), created: true);

    /// <inheritdoc/>
    public override Task<DeleteStreamResponse> DeleteStream(DeleteStreamRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.DeleteStreamAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<ListStreamsResponse> ListStreams(ListStreamsRequest request, ServerCallContext context) =>
        RunAsync(context, () => Task.FromResult(administration.ListStreams(request)));

    /// <inheritdoc/>
    public override Task<DescribeStreamSummaryResponse> DescribeStreamSummary(DescribeStreamSummaryRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.DescribeStreamSummaryAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<ListShardsResponse> ListShards(ListShardsRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.ListShardsAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<PutRecordResponse> PutRecord(PutRecordRequest request, ServerCallContext context) =>
        RunAsync(context, async () =>
        {
            var started = StreamsApiMetrics.Now();
            var entry = new PutRecordsRequestEntry { Data = request.Data, PartitionKey = request.PartitionKey, ExplicitHashKey = request.ExplicitHashKey };
            var response = await writer.WriteAsync(request.StreamName, [entry], request.ProducerId, request.ProducerSequence, RequestHeaders.IsForwarded(context), single: true, context.CancellationToken).ConfigureAwait(false);
            var result = response.Records[0];
            if (result.ErrorCode.Length > 0)
            {
                throw new StreamsApiException(StatusCode.Unavailable, result.ErrorCode, result.ErrorMessage);
            }

            metrics.RecordPut(request.StreamName, response, [entry], started);
            return new PutRecordResponse { ShardId = result.ShardId, SequenceNumber = result.SequenceNumber };
        });

    /// <inheritdoc/>
    public override Task<PutRecordsResponse> PutRecords(PutRecordsRequest request, ServerCallContext context) =>
        RunAsync(context, async () =>
        {
            var started = StreamsApiMetrics.Now();
            var response = await writer.WriteAsync(request.StreamName, request.Records, request.ProducerId, request.ProducerSequence, RequestHeaders.IsForwarded(context), single: false, context.CancellationToken).ConfigureAwait(false);
            metrics.RecordPut(request.StreamName, response, request.Records, started);
            return response;
        });

    /// <inheritdoc/>
    public override Task<GetShardIteratorResponse> GetShardIterator(GetShardIteratorRequest request, ServerCallContext context) =>
        RunAsync(context, () => fetcher.GetShardIteratorAsync(request, RequestHeaders.IsForwarded(context), context.CancellationToken));

    /// <inheritdoc/>
    public override Task<GetRecordsResponse> GetRecords(GetRecordsRequest request, ServerCallContext context) =>
        RunAsync(context, () => fetcher.GetRecordsAsync(request, RequestHeaders.IsForwarded(context), context.CancellationToken));

    /// <inheritdoc/>
    public override Task SubscribeToShard(SubscribeToShardRequest request, IServerStreamWriter<SubscribeToShardEvent> events, ServerCallContext context) =>
        RunAsync(context, async () =>
        {
            await fetcher.SubscribeAsync(request, events, RequestHeaders.IsForwarded(context), context.CancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public override Task<SplitShardResponse> SplitShard(SplitShardRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.SplitShardAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<MergeShardsResponse> MergeShards(MergeShardsRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.MergeShardsAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<UpdateShardCountResponse> UpdateShardCount(UpdateShardCountRequest request, ServerCallContext context) =>
        RunAsync(context, () => administration.UpdateShardCountAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriod(IncreaseStreamRetentionPeriodRequest request, ServerCallContext context) =>
        RunAsync(context, async () =>
        {
            await administration.ChangeRetentionAsync(request.StreamName, request.RetentionPeriodHours, increase: true, context.CancellationToken).ConfigureAwait(false);
            return new IncreaseStreamRetentionPeriodResponse();
        });

    /// <inheritdoc/>
    public override Task<DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriod(DecreaseStreamRetentionPeriodRequest request, ServerCallContext context) =>
        RunAsync(context, async () =>
        {
            await administration.ChangeRetentionAsync(request.StreamName, request.RetentionPeriodHours, increase: false, context.CancellationToken).ConfigureAwait(false);
            return new DecreaseStreamRetentionPeriodResponse();
        });

    /// <inheritdoc/>
    public override async Task Produce(IAsyncStreamReader<ProduceRequest> requests, IServerStreamWriter<ProduceResponse> responses, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(context);

        // Batches are written concurrently (each waits for its own commit) but started in arrival
        // order, so the shards' logs keep the order the producer sent them in. Responses go out
        // one at a time, as batches finish.
        using var writeLock = new SemaphoreSlim(1, 1);
        var inFlight = new List<Task>();
        var forwarded = RequestHeaders.IsForwarded(context);
        while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var batch = requests.Current;
            inFlight.Add(ProduceOneAsync(batch, responses, writeLock, forwarded, context.CancellationToken));
            inFlight.RemoveAll(t => t.IsCompleted);
            if (inFlight.Count >= MaxBatchesInFlight)
            {
                // Backpressure: stop reading until a batch finishes; HTTP/2 flow control holds the producer.
                await Task.WhenAny(inFlight).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    private async Task ProduceOneAsync(ProduceRequest batch, IServerStreamWriter<ProduceResponse> responses, SemaphoreSlim writeLock, bool forwarded, CancellationToken cancellationToken)
    {
        var response = new ProduceResponse { BatchId = batch.BatchId };
        var started = StreamsApiMetrics.Now();
        try
        {
            var written = await writer.WriteAsync(batch.StreamName, batch.Records, batch.ProducerId, batch.ProducerSequence, forwarded, single: false, cancellationToken).ConfigureAwait(false);
            response.FailedRecordCount = written.FailedRecordCount;
            response.Records.AddRange(written.Records);
            metrics.RecordPut(batch.StreamName, written, batch.Records, started);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Every batch gets an answer, whatever failed (a status relayed by the leader this node
            // forwarded to, a leader change): a batch left unanswered stalls the producer's window.
            var error = ApiCalls.ToApiException(logger, ex, StreamsMethods.Produce.Path);
            response.ErrorCode = error.ErrorName;
            response.ErrorMessage = error.Message;
        }

        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await responses.WriteAsync(response, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private Task<T> RunAsync<T>(ServerCallContext context, Func<Task<T>> operation, bool created = false) =>
        ApiCalls.RunAsync(logger, context, operation, created);
}
