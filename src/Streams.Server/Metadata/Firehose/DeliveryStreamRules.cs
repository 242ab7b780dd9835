using Google.Protobuf;
using Streams.V1;

namespace Streams.Server.Metadata.Firehose;

/// <summary>
/// The rules for delivery streams: names, limits, and a destination's fields with their defaults.
/// Pure, shared by the API (to refuse early) and the controller (which decides).
/// </summary>
public static class DeliveryStreamRules
{
    /// <summary>The longest delivery stream name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The most delivery streams a cluster keeps.</summary>
    public const int MaxDeliveryStreams = 100;

    /// <summary>The longest prefix or error output prefix.</summary>
    public const int MaxPrefixLength = 512;

    /// <summary>The longest record delimiter.</summary>
    public const int MaxDelimiterLength = 16;

    /// <summary>Buffer size bounds and default, in MiB.</summary>
    public const int MinSizeInMBs = 1, MaxSizeInMBs = 128, DefaultSizeInMBs = 5;

    /// <summary>Buffer interval bounds and default, in seconds.</summary>
    public const int MinIntervalInSeconds = 1, MaxIntervalInSeconds = 900, DefaultIntervalInSeconds = 300;

    /// <summary>The error output prefix when none is given.</summary>
    public const string DefaultErrorOutputPrefix = "errors/";

    /// <summary>The region when none is given.</summary>
    public const string DefaultRegion = "us-east-1";

    /// <summary>The consumer group a delivery stream's workers share.</summary>
    /// <param name="deliveryStreamName">The delivery stream's name.</param>
    public static string ConsumerGroupOf(string deliveryStreamName) => "firehose." + deliveryStreamName;

    /// <summary>The member id a node's worker joins its delivery stream's group with: the node id, ':' and a per-process suffix.</summary>
    /// <param name="nodeId">The node's id.</param>
    /// <param name="suffix">Distinguishes this worker from an earlier one of the same node (a restart).</param>
    public static string MemberIdOf(string nodeId, string suffix) => nodeId + ":" + suffix;

    /// <summary>The node a worker's member id names (everything before its last ':').</summary>
    /// <param name="memberId">The member id.</param>
    public static string NodeOf(string memberId)
    {
        ArgumentNullException.ThrowIfNull(memberId);
        var colon = memberId.LastIndexOf(':');
        return colon < 0 ? memberId : memberId[..colon];
    }

    /// <summary>The local directory of a delivery stream that names no destination, relative to a node's data directory.</summary>
    /// <param name="deliveryStreamName">The delivery stream's name.</param>
    public static string DefaultDirectoryOf(string deliveryStreamName) => "firehose/" + deliveryStreamName;

    /// <summary>Null when <paramref name="name"/> is a valid delivery stream name, else why not.</summary>
    /// <param name="name">The name.</param>
    public static string? ValidateName(string? name) => StreamNames.Validate(name, "delivery_stream_name", MaxNameLength);

    /// <summary>
    /// Checks <paramref name="destination"/> (null means none given) and fills in its defaults:
    /// the destination to store, or a message saying what to change.
    /// </summary>
    /// <param name="deliveryStreamName">The delivery stream's name (for the default directory).</param>
    /// <param name="destination">The destination as requested.</param>
    /// <param name="normalized">The destination with every default written out.</param>
    public static string? Normalize(string deliveryStreamName, DeliveryDestination? destination, out DeliveryDestination normalized)
    {
        normalized = destination?.Clone() ?? new DeliveryDestination();
        var problem = NormalizeTarget(deliveryStreamName, normalized)
            ?? CheckPrefix("prefix", normalized.Prefix)
            ?? CheckPrefix("error_output_prefix", normalized.ErrorOutputPrefix)
            ?? NormalizeBuffering(normalized)
            ?? NormalizeFormat(normalized);
        if (problem is not null)
        {
            return problem;
        }

        if (normalized.ErrorOutputPrefix.Length == 0)
        {
            normalized.ErrorOutputPrefix = DefaultErrorOutputPrefix;
        }

        if (string.Equals(TrimSlash(normalized.ErrorOutputPrefix), TrimSlash(normalized.Prefix), StringComparison.Ordinal))
        {
            return $"error_output_prefix '{normalized.ErrorOutputPrefix}' is the same as prefix: failed records would mix with delivered objects; give the error output its own prefix (the default is '{DefaultErrorOutputPrefix}').";
        }

        return null;
    }

    /// <summary>The destination as DescribeDeliveryStream answers it: without the secret key.</summary>
    /// <param name="destination">The stored destination.</param>
    public static DeliveryDestination Redacted(DeliveryDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var copy = destination.Clone();
        if (copy.S3 is { } s3)
        {
            s3.SecretAccessKey = "";
        }

        return copy;
    }

    private static string? NormalizeTarget(string deliveryStreamName, DeliveryDestination destination)
    {
        switch (destination.TargetCase)
        {
            case DeliveryDestination.TargetOneofCase.None:
                destination.LocalDirectory = new LocalDirectoryDestination { Path = DefaultDirectoryOf(deliveryStreamName) };
                return null;
            case DeliveryDestination.TargetOneofCase.LocalDirectory:
                if (destination.LocalDirectory.Path.Length == 0)
                {
                    destination.LocalDirectory.Path = DefaultDirectoryOf(deliveryStreamName);
                }

                return destination.LocalDirectory.Path.Split('/', '\\').Contains("..")
                    ? $"local_directory.path '{destination.LocalDirectory.Path}' contains '..'; give a path inside the data directory or an absolute path."
                    : null;
            default:
                return NormalizeS3(destination.S3);
        }
    }

    private static string? NormalizeS3(S3Destination s3)
    {
        if (s3.Endpoint.Length > 0
            && (!Uri.TryCreate(s3.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https") || endpoint.AbsolutePath.Length > 1 || endpoint.Query.Length > 0))
        {
            return $"s3.endpoint '{s3.Endpoint}' is not an http:// or https:// address without a path, such as http://127.0.0.1:9000; leave it empty for AWS.";
        }

        if (s3.Region.Length == 0)
        {
            s3.Region = DefaultRegion;
        }
        else if (s3.Region.Length > 32 || !s3.Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            return $"s3.region '{s3.Region}' is not a region name such as us-east-1 (lower-case letters, digits and '-').";
        }

        if (s3.Bucket.Length is < 3 or > 63
            || !s3.Bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
            || !char.IsAsciiLetterOrDigit(s3.Bucket[0]) || !char.IsAsciiLetterOrDigit(s3.Bucket[^1]))
        {
            return $"s3.bucket '{s3.Bucket}' is not a bucket name: 3 to 63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.";
        }

        if ((s3.AccessKeyId.Length == 0) != (s3.SecretAccessKey.Length == 0))
        {
            return "s3.access_key_id and s3.secret_access_key go together: give both, or neither to use the nodes' AWS profile or environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).";
        }

        return s3.Profile.Length > 0 && s3.AccessKeyId.Length > 0
            ? "s3.profile and s3.access_key_id are both set; give a key pair or a profile, not both."
            : null;
    }

    private static string? CheckPrefix(string field, string prefix)
    {
        if (prefix.Length > MaxPrefixLength)
        {
            return $"{field} is {prefix.Length} characters; at most {MaxPrefixLength} are allowed.";
        }

        if (prefix.StartsWith('/') || prefix.Split('/').Contains(".."))
        {
            return $"{field} '{prefix}' starts with '/' or contains '..'; give a relative prefix such as 'orders/'.";
        }

        return prefix.Any(char.IsControl) ? $"{field} contains control characters; use printable characters only." : null;
    }

    private static string? NormalizeBuffering(DeliveryDestination destination)
    {
        var hints = destination.BufferingHints ??= new BufferingHints();
        if (hints.SizeInMbs == 0)
        {
            hints.SizeInMbs = DefaultSizeInMBs;
        }
        else if (hints.SizeInMbs is < MinSizeInMBs or > MaxSizeInMBs)
        {
            return $"buffering_hints.size_in_mbs is {hints.SizeInMbs}; give {MinSizeInMBs} to {MaxSizeInMBs} (0 means {DefaultSizeInMBs}).";
        }

        if (hints.IntervalInSeconds == 0)
        {
            hints.IntervalInSeconds = DefaultIntervalInSeconds;
        }
        else if (hints.IntervalInSeconds is < MinIntervalInSeconds or > MaxIntervalInSeconds)
        {
            return $"buffering_hints.interval_in_seconds is {hints.IntervalInSeconds}; give {MinIntervalInSeconds} to {MaxIntervalInSeconds} (0 means {DefaultIntervalInSeconds}).";
        }

        return null;
    }

    private static string? NormalizeFormat(DeliveryDestination destination)
    {
        if (!Enum.IsDefined(destination.Compression))
        {
            return $"compression {(int)destination.Compression} is not one of COMPRESSION_NONE or COMPRESSION_GZIP.";
        }

        if (!Enum.IsDefined(destination.RecordFormat))
        {
            return $"record_format {(int)destination.RecordFormat} is not one of RECORD_FORMAT_RAW or RECORD_FORMAT_JSON_LINES.";
        }

        if (destination.Compression == Compression.Unspecified)
        {
            destination.Compression = Compression.None;
        }

        if (destination.RecordFormat == RecordFormat.Unspecified)
        {
            destination.RecordFormat = RecordFormat.Raw;
        }

        if (destination.RecordFormat == RecordFormat.JsonLines)
        {
            if (destination.HasRecordDelimiter && !destination.RecordDelimiter.Equals(ByteString.CopyFromUtf8("\n")))
            {
                return "record_delimiter is set, but JSON lines always end with a newline; leave it unset, or choose RECORD_FORMAT_RAW.";
            }

            destination.ClearRecordDelimiter();
            return null;
        }

        if (!destination.HasRecordDelimiter)
        {
            destination.RecordDelimiter = ByteString.CopyFromUtf8("\n");
        }

        return destination.RecordDelimiter.Length > MaxDelimiterLength
            ? $"record_delimiter is {destination.RecordDelimiter.Length} bytes; at most {MaxDelimiterLength} are allowed."
            : null;
    }

    private static string TrimSlash(string prefix) => prefix.TrimEnd('/');
}
