using System.Buffers;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace Streams.Server.Firehose.Targets;

/// <summary>
/// Objects in an S3-compatible bucket (AWS, MinIO, Ceph RGW, s3rver), addressed path-style.
/// Objects up to <see cref="S3TargetSettings.MultipartThresholdBytes"/> go up in one PutObject,
/// larger ones as a multipart upload (aborted when a step fails). Bodies are streamed from the
/// object's chunks. Requests are plain SigV4 with a signed payload and no flexible checksums or
/// aws-chunked bodies, which every S3-compatible server understands (s3rver would store aws-chunked
/// framing as part of the object). The SDK retries little: the caller retries with backoff.
/// </summary>
public sealed class S3Target : DeliveryTarget
{
    // One SDK retry covers a dropped keep-alive connection; anything longer is the caller's backoff.
    private const int SdkRetries = 1;

    private readonly S3TargetSettings _settings;
    private readonly ILogger _logger;
    private readonly AmazonS3Client _client;
    private readonly string _where;

    /// <summary>A target for <paramref name="settings"/>.</summary>
    /// <param name="settings">The bucket and how to reach it; validated here.</param>
    /// <param name="logger">Where to log aborted multipart uploads.</param>
    /// <exception cref="ArgumentException">The settings are not valid.</exception>
    /// <exception cref="DeliveryTargetException">The named profile was not found (code NoCredentials).</exception>
    public S3Target(S3TargetSettings settings, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        _where = settings.Endpoint is null ? $"AWS {settings.Region}" : settings.Endpoint.ToString().TrimEnd('/');
        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            AuthenticationRegion = settings.Region,
            MaxErrorRetry = SdkRetries,
            Timeout = settings.RequestTimeout,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.Endpoint is null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(settings.Region);
        }
        else
        {
            config.ServiceURL = settings.Endpoint.ToString();
        }

        var credentials = ExplicitCredentials(settings);
        _client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <inheritdoc />
    public override string Description => $"s3://{_settings.Bucket} ({_where})";

    /// <inheritdoc />
    public override async Task PutObjectAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (content.Length > _settings.MultipartThresholdBytes)
        {
            await PutMultipartAsync(key, content, cancellationToken).ConfigureAwait(false);
            return;
        }

        await RequestAsync(key, "PutObject", async token =>
        {
            using var body = new ReadOnlySequenceStream(content);
            var request = new PutObjectRequest
            {
                BucketName = _settings.Bucket,
                Key = key,
                InputStream = body,
                AutoCloseStream = false,
                UseChunkEncoding = false,
            };
            await _client.PutObjectAsync(request, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _client.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task PutMultipartAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken)
    {
        var uploadId = await RequestAsync(key, "CreateMultipartUpload", async token =>
        {
            var request = new InitiateMultipartUploadRequest { BucketName = _settings.Bucket, Key = key };
            var response = await _client.InitiateMultipartUploadAsync(request, token).ConfigureAwait(false);
            return response.UploadId;
        }, cancellationToken).ConfigureAwait(false);

        try
        {
            var parts = new List<PartETag>();
            for (var offset = 0L; offset < content.Length; offset += _settings.PartSizeBytes)
            {
                var partNumber = parts.Count + 1;
                var part = content.Slice(offset, Math.Min(_settings.PartSizeBytes, content.Length - offset));
                var etag = await RequestAsync(key, $"UploadPart {partNumber}", async token =>
                {
                    using var body = new ReadOnlySequenceStream(part);
                    var request = new UploadPartRequest
                    {
                        BucketName = _settings.Bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartNumber = partNumber,
                        PartSize = part.Length,
                        InputStream = body,
                        IsLastPart = offset + part.Length == content.Length,
                        UseChunkEncoding = false,
                    };
                    var response = await _client.UploadPartAsync(request, token).ConfigureAwait(false);
                    return response.ETag;
                }, cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(partNumber, etag));
            }

            await RequestAsync(key, "CompleteMultipartUpload", async token =>
            {
                var request = new CompleteMultipartUploadRequest { BucketName = _settings.Bucket, Key = key, UploadId = uploadId, PartETags = parts };
                await _client.CompleteMultipartUploadAsync(request, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            S3TargetLog.MultipartUploaded(_logger, key, Description, parts.Count, content.Length);
        }
        catch (Exception e) when (e is DeliveryTargetException or OperationCanceledException)
        {
            await AbortAsync(key, uploadId).ConfigureAwait(false);
            throw;
        }
    }

    // Parts of an upload never completed or aborted are kept (and, on AWS, billed) until a
    // lifecycle rule removes them: abort even when the caller gave up, within one timeout.
    private async Task AbortAsync(string key, string uploadId)
    {
        using var timeout = new CancellationTokenSource(_settings.RequestTimeout);
        try
        {
            var request = new AbortMultipartUploadRequest { BucketName = _settings.Bucket, Key = key, UploadId = uploadId };
            await _client.AbortMultipartUploadAsync(request, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Aborting is cleanup after a failure already being reported: its own failure is only logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            S3TargetLog.AbortFailed(_logger, uploadId, key, Description, e.Message);
        }
    }

    private async Task<T> RequestAsync<T>(string key, string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var result = default(T)!;
        // Typed, so that the lambda is not taken for a Func<CancellationToken, Task<T>> (this overload again).
        Func<CancellationToken, Task> untyped = async token => result = await call(token).ConfigureAwait(false);
        await RequestAsync(key, operation, untyped, cancellationToken).ConfigureAwait(false);
        return result;
    }

    // One S3 request under the request timeout, its failures translated to DeliveryTargetException.
    private async Task RequestAsync(string key, string operation, Func<CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.RequestTimeout);
        try
        {
            await call(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && S3Failures.Translate(e, _settings, _where, key, operation) is { } failure)
        {
            throw failure;
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
        {
            // However the SDK reported it, the caller sees its own cancellation.
            throw new OperationCanceledException($"{operation} of '{key}' was canceled.", e, cancellationToken);
        }
    }

    private static AWSCredentials? ExplicitCredentials(S3TargetSettings settings)
    {
        if (!string.IsNullOrEmpty(settings.AccessKeyId))
        {
            return new BasicAWSCredentials(settings.AccessKeyId, settings.SecretAccessKey);
        }

        if (string.IsNullOrEmpty(settings.Profile))
        {
            // The SDK's default chain, resolved (and refreshed) by the client itself.
            return null;
        }

        if (new CredentialProfileStoreChain().TryGetAWSCredentials(settings.Profile, out var credentials))
        {
            return credentials;
        }

        throw new DeliveryTargetException(
            DeliveryTargetErrors.NoCredentials,
            $"The AWS profile '{settings.Profile}' was not found in the node's AWS configuration files (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE): add it, or give the destination an access key pair.",
            permanent: true);
    }
}
