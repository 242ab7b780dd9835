using System.Buffers;

namespace Streams.Server.Firehose.Targets;

/// <summary>An S3-compatible bucket and how to upload to it (<see cref="S3Target"/>).</summary>
public sealed class S3TargetSettings
{
    /// <summary>S3's smallest part of a multipart upload (all but the last part).</summary>
    public const int MinPartSizeBytes = 5 * 1024 * 1024;

    /// <summary>S3's largest single PutObject and largest part.</summary>
    public const long MaxSingleUploadBytes = 5L * 1024 * 1024 * 1024;

    private static readonly SearchValues<char> _bucketCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789.-");

    /// <summary>The endpoint, such as http://127.0.0.1:9000; null means AWS's endpoint for <see cref="Region"/>.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The region requests are signed for (and, without <see cref="Endpoint"/>, sent to).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>The bucket: 3-63 characters of [a-z0-9.-].</summary>
    public required string Bucket { get; init; }

    /// <summary>With <see cref="SecretAccessKey"/>: the credentials to use. Null means a profile or the environment's.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>The secret of <see cref="AccessKeyId"/>.</summary>
    public string? SecretAccessKey { get; init; }

    /// <summary>Without a key pair: the named profile of the AWS configuration files. Null means the SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, ...).</summary>
    public string? Profile { get; init; }

    /// <summary>Objects larger than this go up as a multipart upload.</summary>
    public long MultipartThresholdBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>The size of each part of a multipart upload (the last may be smaller); at least <see cref="MinPartSizeBytes"/>.</summary>
    public int PartSizeBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>How long one request (a PutObject, or one step of a multipart upload) may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong, if anything.</summary>
    public void Validate()
    {
        if (Endpoint is not null && (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"Endpoint '{Endpoint}' must be an absolute http:// or https:// address, such as http://127.0.0.1:9000.", nameof(Endpoint));
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            throw new ArgumentException("Region is empty; use the bucket's region, such as us-east-1.", nameof(Region));
        }

        if (Bucket is null || Bucket.Length is < 3 or > 63 || Bucket.AsSpan().ContainsAnyExcept(_bucketCharacters))
        {
            throw new ArgumentException($"Bucket '{Bucket}' is not a bucket name: use 3-63 characters of a-z, 0-9, '.' and '-'.", nameof(Bucket));
        }

        if (string.IsNullOrEmpty(AccessKeyId) != string.IsNullOrEmpty(SecretAccessKey))
        {
            throw new ArgumentException("Give both AccessKeyId and SecretAccessKey, or neither (to use a profile or the environment's credentials).", nameof(SecretAccessKey));
        }

        if (PartSizeBytes < MinPartSizeBytes)
        {
            throw new ArgumentException($"PartSizeBytes is {PartSizeBytes}; S3 needs parts of at least {MinPartSizeBytes} bytes (5 MiB).", nameof(PartSizeBytes));
        }

        if (MultipartThresholdBytes is < 0 or > MaxSingleUploadBytes)
        {
            throw new ArgumentException($"MultipartThresholdBytes is {MultipartThresholdBytes}; use 0 to {MaxSingleUploadBytes} (S3's largest single upload).", nameof(MultipartThresholdBytes));
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RequestTimeout is {RequestTimeout}; it must be positive.", nameof(RequestTimeout));
        }
    }
}
