namespace Streams.Server.Firehose.Targets;

/// <summary>The codes of <see cref="DeliveryTargetException.Code"/>: stable names, also used as error-output folders and in status.</summary>
public static class DeliveryTargetErrors
{
    /// <summary>The bucket does not exist.</summary>
    public const string NoSuchBucket = "NoSuchBucket";

    /// <summary>The credentials were refused (unknown key, bad secret, or no permission).</summary>
    public const string AccessDenied = "AccessDenied";

    /// <summary>No credentials were found (no key pair, profile or environment credentials).</summary>
    public const string NoCredentials = "NoCredentials";

    /// <summary>The bucket lives in another region than the one configured.</summary>
    public const string WrongRegion = "WrongRegion";

    /// <summary>The endpoint could not be reached (refused, reset, name not resolved).</summary>
    public const string Unreachable = "Unreachable";

    /// <summary>A request took longer than the configured timeout.</summary>
    public const string Timeout = "Timeout";

    /// <summary>The server failed or asked to slow down (HTTP 5xx, SlowDown).</summary>
    public const string ServerError = "ServerError";

    /// <summary>The server refused the request for another reason.</summary>
    public const string RequestFailed = "RequestFailed";

    /// <summary>The key cannot be stored by this target (e.g. ".." or an empty folder name for a directory).</summary>
    public const string InvalidKey = "InvalidKey";

    /// <summary>Reading or writing a local file failed (disk full, permissions, ...).</summary>
    public const string IOError = "IOError";
}
