using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using Streams.Client.Consuming;
using Streams.Client.Producing;
using Streams.Load.ClusterBench;
using Streams.Load.Engine;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.Targets;

/// <summary>
/// End to end: each operation is one record put through the SDK producer, and it completes when a
/// reader on the other side (<see cref="DeliveryPath"/>) is handed it, so the latency measured is
/// from the record's intended send time to its delivery. The record's first 8 bytes carry the
/// operation's number.
/// </summary>
internal sealed class EndToEndTarget(StreamsDeployment deployment, string streamName, int shards, int recordBytes, DeliveryPath path) : LoadTarget
{
    private static readonly TimeSpan _emptyReadPause = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentDictionary<long, TaskCompletionSource> _waiting = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _readers = [];
    private SharedSdkProducer? _producer;
    private Consumer? _consumer;

    public override string System => "Streams";

    public override string Setup => deployment.Setup;

    public override string Workload => string.Create(CultureInfo.InvariantCulture, $"end to end: SDK producer to {Describe(path)}, {recordBytes} B records, {shards} shards");

    public override string Guarantee => deployment.Guarantee + "; delivered once committed";

    public override int RecordBytes => recordBytes;

    public static string Describe(DeliveryPath path) => path switch
    {
        DeliveryPath.GetRecords => "GetRecords polling",
        DeliveryPath.SubscribeToShard => "SubscribeToShard",
        _ => "consumer group",
    };

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (recordBytes < sizeof(long))
        {
            throw new ArgumentException($"End-to-end records carry an 8-byte number: use at least 8 bytes (was {recordBytes}).");
        }

        var map = await deployment.CreateStreamAsync(streamName, shards, cancellationToken).ConfigureAwait(false);
        _producer = new SharedSdkProducer(deployment, streamName, ProducerTransport.ProduceStream);
        switch (path)
        {
            case DeliveryPath.GetRecords:
                _readers.AddRange(map.Select(shard => Task.Run(() => PollAsync(shard, _stop.Token), CancellationToken.None)));
                break;
            case DeliveryPath.SubscribeToShard:
                _readers.AddRange(map.Select(shard => Task.Run(() => SubscribeAsync(shard, _stop.Token), CancellationToken.None)));
                break;
            default:
                _consumer = new Consumer(_producer.Client, new ConsumerOptions { StreamName = streamName, GroupName = "load", IdleDelay = _emptyReadPause, InitialPosition = InitialPosition.TrimHorizon });
                _readers.Add(_consumer.RunBatchesAsync(
                    (batch, _) =>
                    {
                        foreach (var record in batch.Records)
                        {
                            Deliver(record.Data.Span);
                        }

                        return ValueTask.CompletedTask;
                    },
                    _stop.Token));
                break;
        }
    }

    public override async ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken)
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[operation] = delivered;
        var buffer = ArrayPool<byte>.Shared.Rent(recordBytes);
        try
        {
            buffer.AsSpan(0, recordBytes).Clear();
            BinaryPrimitives.WriteInt64LittleEndian(buffer, operation);
            var receipt = await _producer!.SendAsync(producer, buffer.AsMemory(0, recordBytes), cancellationToken).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
            await receipt.Completion.ConfigureAwait(false);
        }
        catch
        {
            _waiting.TryRemove(operation, out _);
            throw;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        await delivered.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_readers).WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Readers stopped by the cancellation; their ends are not measured.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        if (_consumer is not null)
        {
            await _consumer.DisposeAsync().ConfigureAwait(false);
        }

        if (_producer is not null)
        {
            await _producer.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Deliver(ReadOnlySpan<byte> data)
    {
        if (data.Length >= sizeof(long) && _waiting.TryRemove(BinaryPrimitives.ReadInt64LittleEndian(data), out var delivered))
        {
            delivered.TrySetResult();
        }
    }

    private async Task PollAsync(ShardInfo shard, CancellationToken stop)
    {
        var api = deployment.Clients[Math.Max(0, shard.Leader)];
        using (var first = api.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = streamName, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TrimHorizon }, Call(stop)))
        {
            var iterator = (await first.ResponseAsync.ConfigureAwait(false)).ShardIterator;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var call = api.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, Call(stop));
                    var response = await call.ResponseAsync.ConfigureAwait(false);
                    foreach (var record in response.Records)
                    {
                        Deliver(record.Data.Span);
                    }

                    iterator = response.NextShardIterator;
                    if (response.Records.Count == 0)
                    {
                        await Task.Delay(_emptyReadPause, stop).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task SubscribeAsync(ShardInfo shard, CancellationToken stop)
    {
        var api = deployment.Clients[Math.Max(0, shard.Leader)];
        var position = new StartingPosition { Type = ShardIteratorType.TrimHorizon };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var call = api.SubscribeToShard(new SubscribeToShardRequest { StreamName = streamName, ShardId = shard.ShardId, StartingPosition = position }, new CallOptions { CancellationToken = stop });
                while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
                {
                    var update = call.ResponseStream.Current;
                    foreach (var record in update.Records)
                    {
                        Deliver(record.Data.Span);
                    }

                    if (update.ContinuationSequenceNumber.Length > 0)
                    {
                        position = new StartingPosition { Type = ShardIteratorType.AfterSequenceNumber, SequenceNumber = update.ContinuationSequenceNumber };
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static CallOptions Call(CancellationToken stop) => new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(30), CancellationToken = stop };
}
