using Streams.Client.Api;
using Streams.Rpc;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Server.Tests.Api;

/// <summary>SubscribeToShard: records pushed as they are written, resuming from the continuation, heartbeats, refusals.</summary>
public sealed class SubscribeToShardTests(ApiNodeFixture fixture) : IClassFixture<ApiNodeFixture>
{
    private const string Shard0 = "shardId-000000000000";

    private readonly ApiNode _api = fixture.Api;

    private static SubscribeToShardRequest Subscribe(string stream, ShardIteratorType type, string sequenceNumber = "") =>
        new() { StreamName = stream, ShardId = Shard0, StartingPosition = new StartingPosition { Type = type, SequenceNumber = sequenceNumber } };

    /// <summary>Reads events until <paramref name="count"/> records came; returns them and the last continuation.</summary>
    private static async Task<(List<string> Data, string Continuation, List<SubscribeToShardEvent> Events)> ReceiveAsync(AsyncServerStreamingCall<SubscribeToShardEvent> call, int count, CancellationToken cancellationToken)
    {
        var data = new List<string>();
        var events = new List<SubscribeToShardEvent>();
        var continuation = "";
        while (data.Count < count)
        {
            Assert.True(await call.ResponseStream.MoveNext(cancellationToken), "the subscription ended early");
            var update = call.ResponseStream.Current;
            events.Add(update);
            data.AddRange(ApiNode.Texts(update.Records));
            if (update.Records.Count > 0)
            {
                Assert.Equal(update.Records[^1].SequenceNumber, update.ContinuationSequenceNumber);
            }

            continuation = update.ContinuationSequenceNumber;
        }

        return (data, continuation, events);
    }

    [Fact]
    public async Task A_subscriber_receives_records_put_after_subscribing_and_resumes_after_the_continuation()
    {
        var name = await _api.NewActiveStreamAsync("subscribe", 1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string continuation;
        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token))
        {
            using var call = _api.Streams.SubscribeToShard(Subscribe(name, ShardIteratorType.TrimHorizon), new CallOptions { CancellationToken = cancel.Token });
            await Task.Delay(100);
            await _api.PutAsync(name, ApiNode.Entry("a", "one"), ApiNode.Entry("b", "two"));
            await _api.PutAsync(name, ApiNode.Entry("a", "three"));
            var (data, last, _) = await ReceiveAsync(call, 3, timeout.Token);
            Assert.Equal(["one", "two", "three"], data);
            continuation = last;
            await cancel.CancelAsync();
        }

        // Written while nobody listened; the resumed subscription starts right after the continuation.
        await _api.PutAsync(name, ApiNode.Entry("a", "four"), ApiNode.Entry("c", "five"));
        using (var call = _api.Streams.SubscribeToShard(Subscribe(name, ShardIteratorType.AfterSequenceNumber, continuation), new CallOptions { CancellationToken = timeout.Token }))
        {
            var (data, _, _) = await ReceiveAsync(call, 2, timeout.Token);
            Assert.Equal(["four", "five"], data);
        }

        // AT_SEQUENCE_NUMBER includes the record.
        using (var call = _api.Streams.SubscribeToShard(Subscribe(name, ShardIteratorType.AtSequenceNumber, continuation), new CallOptions { CancellationToken = timeout.Token }))
        {
            var (data, _, _) = await ReceiveAsync(call, 3, timeout.Token);
            Assert.Equal(["three", "four", "five"], data);
        }
    }

    [Fact]
    public async Task An_idle_subscription_sends_heartbeat_events_carrying_where_to_resume()
    {
        var name = await _api.NewActiveStreamAsync("heartbeat", 1);
        var put = await _api.PutAsync(name, ApiNode.Entry("a", "only"));
        var only = put.Records[0].SequenceNumber;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var fromStart = _api.Streams.SubscribeToShard(Subscribe(name, ShardIteratorType.TrimHorizon), new CallOptions { CancellationToken = timeout.Token });
        using var resumed = _api.Streams.SubscribeToShard(Subscribe(name, ShardIteratorType.AfterSequenceNumber, only), new CallOptions { CancellationToken = timeout.Token });
        var (data, continuation, _) = await ReceiveAsync(fromStart, 1, timeout.Token);
        Assert.Equal(["only"], data);
        Assert.Equal(only, continuation);

        // Nothing more is written: within the heartbeat period (5 s) an event without records comes,
        // still carrying where to resume, for both.
        var heartbeats = await Task.WhenAll(NextAsync(fromStart), NextAsync(resumed));
        foreach (var heartbeat in heartbeats)
        {
            Assert.Empty(heartbeat.Records);
            Assert.Empty(heartbeat.ChildShards);
            Assert.Equal(0, heartbeat.MillisBehindLatest);
            Assert.Equal(only, heartbeat.ContinuationSequenceNumber);
        }

        async Task<SubscribeToShardEvent> NextAsync(AsyncServerStreamingCall<SubscribeToShardEvent> call)
        {
            Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
            return call.ResponseStream.Current;
        }
    }

    [Fact]
    public async Task Bad_subscriptions_are_refused()
    {
        var name = await _api.NewActiveStreamAsync("subscribe-bad", 1);

        async Task First(SubscribeToShardRequest request)
        {
            using var call = _api.Streams.SubscribeToShard(request, ApiNode.Deadline(10));
            await call.ResponseStream.MoveNext();
        }

        await ApiNode.AssertInvalidAsync(() => First(new SubscribeToShardRequest { StreamName = name, ShardId = Shard0 }), "starting_position");
        await ApiNode.AssertInvalidAsync(() => First(Subscribe(name, ShardIteratorType.Unspecified)), "starting_position.type");
        await ApiNode.AssertInvalidAsync(() => First(Subscribe(name, ShardIteratorType.AfterSequenceNumber)), "starting_position.sequence_number", "empty");
        await ApiNode.AssertInvalidAsync(() => First(Subscribe(name, ShardIteratorType.AtSequenceNumber, "12x")), "starting_position.sequence_number", "26 decimal digits");
        await ApiNode.AssertInvalidAsync(() => First(Subscribe(name, ShardIteratorType.TrimHorizon, "00000000000000000001000000")), "starting_position.sequence_number", "is set");
        await ApiNode.AssertInvalidAsync(() => First(Subscribe(name, ShardIteratorType.AtTimestamp)), "starting_position.timestamp", "missing");
        await ApiNode.AssertInvalidAsync(() => First(new SubscribeToShardRequest { StreamName = name, ShardId = "shard-0", StartingPosition = new StartingPosition { Type = ShardIteratorType.TrimHorizon } }), "shard_id", "shardId-000000000000");
        await ApiNode.AssertFailsAsync(
            () => First(new SubscribeToShardRequest { StreamName = name, ShardId = "shardId-000000000009", StartingPosition = new StartingPosition { Type = ShardIteratorType.TrimHorizon } }),
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, "shardId-000000000009");
        await ApiNode.AssertFailsAsync(
            () => First(Subscribe(name + "-missing", ShardIteratorType.TrimHorizon)),
            StatusCode.NotFound, StreamsErrors.ResourceNotFound, name + "-missing");
    }
}
