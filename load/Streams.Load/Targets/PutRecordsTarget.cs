using System.Globalization;
using Streams.Load.ClusterBench;
using Streams.Load.Engine;
using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Load.Targets;

/// <summary>
/// PutRecords: each operation is one call of <c>batch</c> records to one shard, sent to that
/// shard's leader; virtual producer p writes to shard p mod shards. The requests are built once
/// and sent again and again (the service gives every record a new sequence number anyway).
/// </summary>
internal sealed class PutRecordsTarget(StreamsDeployment deployment, string streamName, int shards, int recordBytes, int batch) : LoadTarget
{
    private IReadOnlyList<ShardInfo> _shards = [];
    private PutRecordsRequest[] _requests = [];

    public override string System => "Streams";

    public override string Setup => deployment.Setup;

    public override string Workload => string.Create(CultureInfo.InvariantCulture, $"PutRecords, {batch} x {recordBytes} B records per call, {shards} shards");

    public override string Guarantee => deployment.Guarantee;

    public override int RecordsPerOperation => batch;

    public override int RecordBytes => recordBytes;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _shards = await deployment.CreateStreamAsync(streamName, shards, cancellationToken).ConfigureAwait(false);
        _requests = [.. _shards.Select(shard =>
        {
            var request = new PutRecordsRequest { StreamName = streamName };
            request.Records.AddRange(RecordBatches.For(shard, batch, recordBytes, shard.Index));
            return request;
        })];
    }

    public override async ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken)
    {
        var shard = producer % _shards.Count;
        var client = deployment.Clients[Math.Max(0, _shards[shard].Leader)];
        using var call = client.PutRecordsAsync(_requests[shard], new CallOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(30), CancellationToken = cancellationToken });
        var response = await call.ResponseAsync.ConfigureAwait(false);
        if (response.FailedRecordCount > 0)
        {
            var first = response.Records.First(r => r.ErrorCode.Length > 0);
            throw new InvalidOperationException($"{response.FailedRecordCount} of {batch} records failed: {first.ErrorCode} {first.ErrorMessage}");
        }
    }
}
