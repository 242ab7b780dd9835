// Writes records to a Streams stream with the SDK's Producer.
//
// Start a node first (a one-node cluster on 127.0.0.1:7400, data under ./data):
//     dotnet run --project src/Streams.Server
// then run this sample, optionally with a node address, a stream name and a record count:
//     dotnet run --project samples/Streams.Samples.Producer -- http://127.0.0.1:7400 orders 100000
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Streams.Client;
using Streams.Client.Api;
using Streams.Client.Producing;

var endpoint = args.Length > 0 ? args[0] : "http://127.0.0.1:7400";
var streamName = args.Length > 1 ? args[1] : "sample-orders";
var count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100_000;

// One client per application: it holds the connections to the nodes and the streams' shard maps,
// retries what can be retried, and is safe to share between threads.
await using var client = StreamsClient.Create(endpoint);

// Create the stream unless it exists. A name in use is refused with ResourceInUseException.
try
{
    await client.CreateStreamAndWaitAsync(streamName, shardCount: 4);
    Console.WriteLine($"Created stream '{streamName}' with 4 shards.");
}
catch (StreamsException ex) when (ex.ErrorCode == StreamsErrors.ResourceInUse)
{
    await client.WaitForStreamActiveAsync(streamName);
    Console.WriteLine($"Stream '{streamName}' exists; writing to it.");
}

// A producer routes each record to its shard on the client (by the MD5 of its partition key),
// gathers records into batches per shard, and sends them to each shard's leader. The defaults suit
// most uses; here batches wait at most 10 ms for more records, and at most 16 MiB of records are
// held: when that much is waiting, SendAsync waits too, which slows this loop to what the cluster
// takes. Idempotence is on by default: a retried batch is never written twice, and records of one
// partition key are written in the order they were sent, through retries and leader changes.
var options = new ProducerOptions
{
    StreamName = streamName,
    Linger = TimeSpan.FromMilliseconds(10),
    BufferMaxBytes = 16 * 1024 * 1024,
};

// DisposeAsync (at the end of this scope) sends what is still buffered and waits for it, for at
// most options.DisposeTimeout; whatever is left then fails.
await using var producer = new Producer(client, options);

// Ctrl-C stops sending; the records already taken are still written.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

// PutAsync sends one record and waits until it is written: simple, but one record at a time.
var first = await producer.PutAsync("customer-0", Encoding.UTF8.GetBytes("{\"order\":0,\"status\":\"created\"}"));
Console.WriteLine($"The first record is in {first.ShardId} at sequence number {first.SequenceNumber}.");

// SendAsync returns as soon as the record is taken (copied into a batch), with a receipt whose
// Completion completes once the record is written. Keep sending, and look at the receipts later.
var clock = Stopwatch.StartNew();
var pending = new List<Task<RecordResult>>();
var written = 0;
var failed = 0;
for (var i = 1; i < count && !stop.IsCancellationRequested; i++)
{
    // Records of one customer keep their order; different customers spread over the shards.
    var customer = "customer-" + (i % 1000).ToString(CultureInfo.InvariantCulture);
    var data = Encoding.UTF8.GetBytes($"{{\"order\":{i},\"customer\":\"{customer}\"}}");
    try
    {
        var receipt = await producer.SendAsync(customer, data, cancellationToken: stop.Token);
        pending.Add(receipt.Completion);
    }
    catch (OperationCanceledException)
    {
        // Ctrl-C while SendAsync waited for room in the buffer: this record was not taken.
        break;
    }

    // Look at the receipts now and then, so that the list stays short.
    if (pending.Count == 10_000)
    {
        (written, failed) = await TallyAsync(pending, written, failed);
    }
}

// FlushAsync sends everything taken without waiting for the linger time, and waits until it is written.
await producer.FlushAsync();
(written, failed) = await TallyAsync(pending, written, failed);
Console.WriteLine($"{written + 1:N0} records written, {failed:N0} failed, in {clock.Elapsed.TotalSeconds:F1} s ({(written + 1) / clock.Elapsed.TotalSeconds:N0} records/s).");
return failed == 0 ? 0 : 1;

// Waits for the receipts: a record is written (its result says where), or failed with why.
static async Task<(int Written, int Failed)> TallyAsync(List<Task<RecordResult>> receipts, int written, int failed)
{
    foreach (var receipt in receipts)
    {
        try
        {
            await receipt;
            written++;
        }
        catch (StreamsException ex)
        {
            // The cluster refused it (say, the stream was deleted): the message says what to change.
            failed++;
            Console.Error.WriteLine($"Not written: {ex.Message}");
        }
        catch (ObjectDisposedException ex)
        {
            // The producer was disposed before the record was written.
            failed++;
            Console.Error.WriteLine($"Not written: {ex.Message}");
        }
    }

    receipts.Clear();
    return (written, failed);
}
