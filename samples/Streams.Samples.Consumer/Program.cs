// A consumer of a Streams stream, as one member of a consumer group.
//
//   dotnet run --project samples/Streams.Samples.Consumer -- [endpoint] [stream] [group]
//   dotnet run --project samples/Streams.Samples.Consumer -- http://127.0.0.1:7400 orders billing
//
// Start it twice or three times with the same group: the cluster spreads the stream's shards over
// the running copies. Stop one (Ctrl-C, or kill -TERM) and the others take its shards over at once
// (it leaves the group); kill one (kill -9) and they take them over after its session timeout, going
// on from its last checkpoint. Records are processed AT LEAST ONCE: what a crashed copy processed
// after its last checkpoint is processed again by the next, so make processing idempotent (an
// upsert keyed by stream, shard and sequence number, say) or tolerant of repeats.
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Client.Consuming;
using Streams.V1;

var endpoint = args.Length > 0 ? args[0] : "http://127.0.0.1:7400";
var streamName = args.Length > 1 ? args[1] : "sample-orders";
var groupName = args.Length > 2 ? args[2] : "sample-consumer";

// The consumer logs joins, leases gained and lost, checkpoints refused and its stop through the
// client's logger factory: Information shows the group at work.
using var loggerFactory = LoggerFactory.Create(logging => logging
    .AddSimpleConsole(console => console.SingleLine = true)
    .SetMinimumLevel(LogLevel.Information));

// One client per process, shared by everything in it. Any node of the cluster will do as an
// endpoint: the client learns the others and sends each shard's reads to its leader.
using var client = new StreamsClient(new StreamsClientOptions
{
    Endpoints = [new Uri(endpoint)],
    LoggerFactory = loggerFactory,
});

var options = new ConsumerOptions
{
    StreamName = streamName,

    // The application's name: every copy with the same group shares the shards and the checkpoints.
    // Another application reading the same stream takes a group of its own and reads everything too.
    GroupName = groupName,

    // MemberId is left out: each copy gets host-pid-random, unique for its life.

    // How long a silent copy keeps its shards. Short: quick takeover after a crash; long: survives
    // long pauses (a GC, a slow disk) without shards moving back and forth.
    SessionTimeout = TimeSpan.FromSeconds(10),

    // Where a brand-new group starts: the oldest records held, or only those written from now on.
    // Once the group has checkpoints, they decide.
    InitialPosition = InitialPosition.TrimHorizon,

    // Checkpoint after 1,000 records or after 5 s, whichever first. Each checkpoint is a write to the
    // cluster, so not after every record; what is not yet checkpointed is what a crash repeats.
    // Set both to 0 / TimeSpan.Zero to checkpoint only yourself, with consumer.CheckpointAsync(record):
    // right for work that completes later than the handler returns (a buffer flushed to a file, say).
    CheckpointEveryRecords = 1_000,
    CheckpointInterval = TimeSpan.FromSeconds(5),
};

// The options are checked here; a bad one throws an ArgumentException that says what to change.
await using var consumer = new Consumer(client, options);

// Ctrl-C (SIGINT) and SIGTERM (what `docker stop` and Kubernetes send) stop gracefully: handlers are
// cancelled, what was processed is checkpointed, and the copy leaves the group so the others take
// its shards over right away instead of after the session timeout.
using var stop = new CancellationTokenSource();
void StopGracefully(PosixSignalContext signal)
{
    signal.Cancel = true;
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopGracefully);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopGracefully);

var reporting = ReportLagAsync(consumer, stop.Token);
long processed = 0;

// The handler gets each record once it is this copy's turn: a shard's records in order and one at a
// time, different shards at the same time (so shared state needs care, as `processed` gets here).
// The token is cancelled when the shard moves to another copy or the consumer stops: long work
// should give up then, since another copy will do it again from the checkpoint.
// Rather pull records? `await foreach (var record in consumer.ReadAllAsync(stop.Token))` merges all
// shards into one loop, and counts a record processed when the loop asks for the next.
try
{
    await consumer.RunAsync(
        async (record, cancellationToken) =>
        {
            var text = System.Text.Encoding.UTF8.GetString(record.Data.Span);
            Console.WriteLine($"{record.ShardId} {record.SequenceNumber} key={record.PartitionKey} {text}");

            // Stand-in for real work (a database write, a call to another service).
            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken);
            Interlocked.Increment(ref processed);

            // An exception thrown here stops the consumer (after checkpointing what came before it)
            // and comes out of RunAsync: catch what you can handle, and let the rest stop the process,
            // so a poison record is looked at instead of skipped.
        },
        stop.Token);
}
catch (StreamsException failure)
{
    // What the consumer cannot get past: the stream does not exist, the cluster refused the group name...
    Console.Error.WriteLine($"consumer stopped: {failure.Message}");
    return 1;
}
finally
{
    await stop.CancelAsync();
    await reporting;
}

Console.WriteLine($"stopped after processing {Interlocked.Read(ref processed)} records");
return 0;

// How far behind the newest record each shard is, and which shards this copy holds. The same
// figures go to the meter "Streams.Client" (streams.client.consumer.millis_behind_latest and
// streams.client.consumer.records), for OpenTelemetry or dotnet-counters.
static async Task ReportLagAsync(Consumer consumer, CancellationToken cancellationToken)
{
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
    try
    {
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            var status = consumer.GetStatus();
            var shards = status.Shards.Select(s => $"{s.ShardId} {s.MillisBehindLatest} ms behind, checkpoint {s.LastCheckpointedSequenceNumber ?? "none"}");
            Console.WriteLine($"[{status.MemberId}] {status.Shards.Count} shard(s): {string.Join("; ", shards)}");
        }
    }
    catch (OperationCanceledException)
    {
        // Stopping.
    }
}
