using Google.Protobuf;
using Streams.Server.Metadata.V1;
using Streams.V1;

namespace Streams.Server.Tests.Metadata;

/// <summary>Firehose controller commands, for the controller's tests.</summary>
internal static class DeliveryCommands
{
    public static DeliveryDestination Local(string path = "out") => new() { LocalDirectory = new LocalDirectoryDestination { Path = path } };

    public static DeliveryDestination S3(string bucket) => new() { S3 = new S3Destination { Bucket = bucket, Endpoint = "http://127.0.0.1:9000" }, Prefix = "data/" };

    public static ControllerCommand Create(string name, string source, DeliveryDestination destination, long atMs, InitialPosition position = InitialPosition.TrimHorizon) =>
        new() { CreateDeliveryStream = new CreateDeliveryStreamCommand { DeliveryStreamName = name, SourceStreamName = source, Destination = destination.ToByteString(), InitialPosition = (int)position, TimestampUnixMs = atMs } };

    public static ControllerCommand Update(string name, long version, DeliveryDestination destination, long atMs) =>
        new() { UpdateDestination = new UpdateDestinationCommand { DeliveryStreamName = name, CurrentVersionId = version, Destination = destination.ToByteString(), TimestampUnixMs = atMs } };

    public static ControllerCommand Delete(string name, long atMs) =>
        new() { DeleteDeliveryStream = new DeleteDeliveryStreamCommand { DeliveryStreamName = name, TimestampUnixMs = atMs } };

    public static ControllerCommand Progress(string name, string shardId, long objects, long records, long bytes, long atMs, string error = "", long lagMs = 0) =>
        new()
        {
            DeliveryProgress = new DeliveryProgressCommand
            {
                DeliveryStreamName = name,
                ShardId = shardId,
                Worker = "node-1",
                ObjectsDelivered = objects,
                RecordsDelivered = records,
                BytesDelivered = bytes,
                UploadFailures = error.Length > 0 ? 1 : 0,
                LastError = error,
                LastErrorUnixMs = error.Length > 0 ? atMs : 0,
                LagMillis = lagMs,
                TimestampUnixMs = atMs,
            },
        };

    /// <summary>One of the four kinds of command, aimed by <paramref name="pick"/>, for property tests.</summary>
    public static ControllerCommand Any(TestController controller, int kind, int pick, string source)
    {
        var name = $"d{pick % 3}";
        var at = controller.NowMs += 500;
        var version = controller.Current.DeliveryStreams.TryGetValue(name, out var record) ? record.VersionId : 1;
        return kind switch
        {
            0 => Create(name, source, pick % 2 == 0 ? Local() : S3("bucket-" + (pick % 5)), at, pick % 2 == 0 ? InitialPosition.TrimHorizon : InitialPosition.Latest),
            1 => Update(name, version - (pick % 4 == 0 ? 1 : 0), pick % 2 == 0 ? Local("p" + (pick % 7)) : S3("other"), at),
            2 => Progress(name, $"shardId-{pick % 3:D12}", pick % 3, pick % 100, pick, at, pick % 5 == 0 ? "NoSuchBucket: gone" : ""),
            _ => Delete(name, at),
        };
    }
}
