using Streams.Server.Firehose.Targets;
using Streams.V1;

namespace Streams.Server.Firehose;

/// <summary>The target a stored destination names, as this node reaches it.</summary>
internal static class DeliveryTargets
{
    /// <summary>An S3 bucket, or a local directory (a relative path is under <paramref name="dataDirectory"/>).</summary>
    /// <param name="destination">The stored destination (defaults filled in).</param>
    /// <param name="dataDirectory">This node's data directory.</param>
    /// <param name="logger">Where the target logs.</param>
    public static DeliveryTarget Create(DeliveryDestination destination, string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.TargetCase == DeliveryDestination.TargetOneofCase.S3)
        {
            var s3 = destination.S3;
            return new S3Target(new S3TargetSettings
            {
                Endpoint = s3.Endpoint.Length > 0 ? new Uri(s3.Endpoint) : null,
                Region = s3.Region,
                Bucket = s3.Bucket,
                AccessKeyId = Empty(s3.AccessKeyId),
                SecretAccessKey = Empty(s3.SecretAccessKey),
                Profile = Empty(s3.Profile),
            }, logger);
        }

        var path = destination.LocalDirectory?.Path is { Length: > 0 } configured ? configured : ".";
        return new LocalDirectoryTarget(Path.GetFullPath(path, Path.GetFullPath(dataDirectory)));
    }

    private static string? Empty(string value) => value.Length == 0 ? null : value;
}
