using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace Streams.Server.Firehose.Targets;

/// <summary>Turns what the S3 client throws into a <see cref="DeliveryTargetException"/> that says what to change.</summary>
internal static class S3Failures
{
    /// <summary>
    /// The failure of <paramref name="operation"/> on <paramref name="key"/>, or null for an
    /// exception that is not a failure of the request (a bug, or already translated).
    /// </summary>
    public static DeliveryTargetException? Translate(Exception exception, S3TargetSettings settings, string where, string key, string operation)
    {
        var bucket = settings.Bucket;
        var what = $"{operation} of '{key}' to s3://{bucket} at {where}";
        switch (exception)
        {
            case DeliveryTargetException:
                return null;
            case AmazonServiceException { ErrorCode: { Length: > 0 } code } service:
                return FromService(exception, service, code, settings, where, what);
        }

        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is OperationCanceledException or TimeoutException)
            {
                return new DeliveryTargetException(
                    DeliveryTargetErrors.Timeout,
                    $"{what} took longer than {settings.RequestTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: the endpoint is slow or does not answer.",
                    permanent: false,
                    exception);
            }

            if (cause is HttpRequestException or SocketException or IOException)
            {
                return new DeliveryTargetException(
                    DeliveryTargetErrors.Unreachable,
                    $"{what} failed: could not reach {where} ({cause.Message}). Check that the endpoint is up and the destination's endpoint is right.",
                    permanent: false,
                    exception);
            }
        }

        return exception switch
        {
            AmazonServiceException { StatusCode: var status } when (int)status >= 500 => new DeliveryTargetException(
                DeliveryTargetErrors.ServerError, $"{what} failed: the server answered HTTP {(int)status} ({exception.Message}).", permanent: false, exception),
            AmazonClientException when exception.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) => new DeliveryTargetException(
                DeliveryTargetErrors.NoCredentials,
                $"{what} failed: no AWS credentials ({exception.Message}). Give the destination an access key pair or a profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the node.",
                permanent: true,
                exception),
            AmazonClientException => new DeliveryTargetException(DeliveryTargetErrors.RequestFailed, $"{what} failed: {exception.Message}", permanent: false, exception),
            _ => null,
        };
    }

    private static DeliveryTargetException FromService(Exception exception, AmazonServiceException service, string code, S3TargetSettings settings, string where, string what)
    {
        var bucket = settings.Bucket;
        var status = (int)service.StatusCode;
        return code switch
        {
            "NoSuchBucket" => new DeliveryTargetException(
                DeliveryTargetErrors.NoSuchBucket,
                $"Bucket '{bucket}' does not exist at {where}: create it or fix the destination's bucket ({what} failed).",
                permanent: true,
                exception),
            "InvalidAccessKeyId" => new DeliveryTargetException(
                DeliveryTargetErrors.AccessDenied,
                $"{what} failed: {where} does not know the access key id (InvalidAccessKeyId). Fix the destination's credentials.",
                permanent: true,
                exception),
            "SignatureDoesNotMatch" => new DeliveryTargetException(
                DeliveryTargetErrors.AccessDenied,
                $"{what} failed: the secret access key does not match the access key id (SignatureDoesNotMatch). Fix the destination's credentials.",
                permanent: true,
                exception),
            "AccessDenied" or "AllAccessDisabled" or "AccountProblem" or "ExpiredToken" or "InvalidToken" or "TokenRefreshRequired" => new DeliveryTargetException(
                DeliveryTargetErrors.AccessDenied,
                $"{what} was refused ({code}: {service.Message}). Give the credentials s3:PutObject and the multipart upload permissions on bucket '{bucket}', or fix the destination's credentials.",
                permanent: true,
                exception),
            "PermanentRedirect" or "AuthorizationHeaderMalformed" or "IllegalLocationConstraintException" => new DeliveryTargetException(
                DeliveryTargetErrors.WrongRegion,
                $"{what} failed: bucket '{bucket}' is not in region '{settings.Region}' ({code}: {service.Message}). Set the destination's region to the bucket's.",
                permanent: true,
                exception),
            _ when status >= 500 || code is "SlowDown" or "ServiceUnavailable" or "InternalError" or "RequestTimeout" => new DeliveryTargetException(
                DeliveryTargetErrors.ServerError,
                $"{what} failed: the server answered {code} (HTTP {status}: {service.Message}).",
                permanent: false,
                exception),
            _ when service.StatusCode == HttpStatusCode.Forbidden => new DeliveryTargetException(
                DeliveryTargetErrors.AccessDenied,
                $"{what} was refused ({code}: {service.Message}). Check the destination's credentials and their permissions on bucket '{bucket}'.",
                permanent: true,
                exception),
            _ => new DeliveryTargetException(
                DeliveryTargetErrors.RequestFailed,
                $"{what} failed: {code} (HTTP {status}: {service.Message}).",
                permanent: false,
                exception),
        };
    }
}
