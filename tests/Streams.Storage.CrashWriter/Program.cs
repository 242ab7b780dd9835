using Streams.Storage.CrashWriter;
using Streams.Storage.Segments;

// Usage: Streams.Storage.CrashWriter <directory> <segment-size-bytes>
// Appends batches forever with several appends awaiting durability at once (so fsyncs are
// shared), and prints "durable <index>" once WaitForDurableAsync says an index is durable.
// The parent kills this process with SIGKILL at a random moment.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Streams.Storage.CrashWriter <directory> <segment-size-bytes>");
    return 2;
}

await using var log = await SegmentLog.OpenAsync(new SegmentLogOptions
{
    Directory = args[0],
    SegmentSizeBytes = long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture),
    Durability = DurabilityPolicy.Always,
});
Console.Out.WriteLine($"opened {log.FirstIndex} {log.LastIndex}");
Console.Out.Flush();

var inFlight = new Queue<(long Index, Task Durable)>();
var next = log.LastIndex + 1;
while (true)
{
    log.Append(CrashBatches.For(next));
    inFlight.Enqueue((next, log.WaitForDurableAsync(next, CancellationToken.None).AsTask()));
    next++;

    // Keep up to 16 appends waiting for the same fsync; report each as it becomes durable.
    while (inFlight.Count > 0 && (inFlight.Count >= 16 || inFlight.Peek().Durable.IsCompleted))
    {
        var (index, durable) = inFlight.Dequeue();
        await durable;
        Console.Out.WriteLine($"durable {index}");
    }

    Console.Out.Flush();
}
