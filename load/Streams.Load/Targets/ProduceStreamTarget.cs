using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf.Collections;
using Streams.Load.Engine;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.Targets;

/// <summary>
/// The Produce stream: one long-lived bidirectional call per shard, to its leader, that every
/// virtual producer writing to that shard shares (many producers over few connections). Each
/// operation is one batch of <c>batch</c> records; it completes when the stream acknowledges its batch id.
/// </summary>
internal sealed class ProduceStreamTarget(StreamsDeployment deployment, string streamName, int shards, int recordBytes, int batch) : LoadTarget
{
    private readonly CancellationTokenSource _stop = new();
    private ShardStream[] _streams = [];

    public override string System => "Streams";

    public override string Setup => deployment.Setup;

    public override string Workload => string.Create(CultureInfo.InvariantCulture, $"Produce stream, {batch} x {recordBytes} B records per batch, one stream per shard, {shards} shards");

    public override string Guarantee => deployment.Guarantee;

    public override int RecordsPerOperation => batch;

    public override int RecordBytes => recordBytes;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var map = await deployment.CreateStreamAsync(streamName, shards, cancellationToken).ConfigureAwait(false);
        _streams = [.. map.Select(shard =>
        {
            var records = new RepeatedField<PutRecordsRequestEntry>();
            records.AddRange(RecordBatches.For(shard, batch, recordBytes, shard.Index));
            var call = deployment.Clients[Math.Max(0, shard.Leader)].Produce(new CallOptions { CancellationToken = _stop.Token });
            return new ShardStream(call, streamName, records, _stop.Token);
        })];
    }

    public override ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken) =>
        _streams[producer % _streams.Length].SendAsync(cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            await stream.CompleteAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var stream in _streams)
        {
            stream.Dispose();
        }

        _stop.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    // One Produce call: writes serialized, acknowledgements matched to waiting senders by batch id.
    private sealed class ShardStream : IDisposable
    {
        private readonly AsyncDuplexStreamingCall<ProduceRequest, ProduceResponse> _call;
        private readonly string _streamName;
        private readonly RepeatedField<PutRecordsRequestEntry> _records;
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _pending = new();
        private readonly Task _reader;
        private long _nextBatch;
        private volatile Exception? _failure;

        public ShardStream(AsyncDuplexStreamingCall<ProduceRequest, ProduceResponse> call, string streamName, RepeatedField<PutRecordsRequestEntry> records, CancellationToken stop)
        {
            _call = call;
            _streamName = streamName;
            _records = records;
            _reader = Task.Run(() => ReadAsync(stop), CancellationToken.None);
        }

        public async ValueTask SendAsync(CancellationToken cancellationToken)
        {
            var id = (ulong)Interlocked.Increment(ref _nextBatch);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = done;
            if (_failure is { } failed && _pending.TryRemove(id, out _))
            {
                throw new InvalidOperationException("The Produce stream failed.", failed);
            }

            var request = new ProduceRequest { BatchId = id, StreamName = _streamName };
            request.Records.AddRange(_records);
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _pending.TryRemove(id, out _);
                throw;
            }
            finally
            {
                _writeLock.Release();
            }

            await done.Task.ConfigureAwait(false);
        }

        public async Task CompleteAsync()
        {
            try
            {
                await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
                await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Closing a stream that already failed: nothing more to learn.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        public void Dispose()
        {
            _call.Dispose();
            _writeLock.Dispose();
        }

        private async Task ReadAsync(CancellationToken stop)
        {
            Exception failure = new InvalidOperationException("The Produce stream ended.");
            try
            {
                while (await _call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
                {
                    var response = _call.ResponseStream.Current;
                    if (_pending.TryRemove(response.BatchId, out var done))
                    {
                        if (response.ErrorCode.Length > 0 || response.FailedRecordCount > 0)
                        {
                            done.TrySetException(new InvalidOperationException($"batch {response.BatchId}: {response.ErrorCode} {response.ErrorMessage} ({response.FailedRecordCount} records failed)"));
                        }
                        else
                        {
                            done.TrySetResult();
                        }
                    }
                }
            }
#pragma warning disable CA1031 // Whatever ended the stream fails every batch still waiting.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }

            _failure = failure;
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var done))
                {
                    done.TrySetException(failure);
                }
            }
        }
    }
}
