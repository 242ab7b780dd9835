using Streams.Client.Api;
using Streams.Rpc;

namespace Streams.Client;

/// <summary>
/// An operation the cluster refused or could not do: the gRPC status, the Kinesis-style error name
/// (see <see cref="StreamsErrors"/>) and the server's message, which says what to change.
/// </summary>
public sealed class StreamsException : Exception
{
    /// <summary>Creates an exception.</summary>
    /// <param name="statusCode">The gRPC status.</param>
    /// <param name="errorCode">The error name, such as <c>ResourceNotFoundException</c>; empty when the server gave none.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The transport's exception, if any.</param>
    public StreamsException(StatusCode statusCode, string errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    /// <summary>Creates an exception with no status (UNKNOWN).</summary>
    public StreamsException()
        : this(StatusCode.Unknown, string.Empty, "The operation failed.")
    {
    }

    /// <summary>Creates an exception with a message (UNKNOWN).</summary>
    /// <param name="message">What went wrong.</param>
    public StreamsException(string message)
        : this(StatusCode.Unknown, string.Empty, message)
    {
    }

    /// <summary>Creates an exception with a message and cause (UNKNOWN).</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public StreamsException(string message, Exception innerException)
        : this(StatusCode.Unknown, string.Empty, message, innerException)
    {
    }

    /// <summary>The gRPC status the operation ended with.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The Kinesis-style error name (<see cref="StreamsErrors"/>), or empty.</summary>
    public string ErrorCode { get; }

    /// <summary>Wraps a transport error, keeping its status and error name.</summary>
    /// <param name="exception">The error.</param>
    public static StreamsException From(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var name = exception.Trailers.GetValue(StreamsErrors.TrailerName) ?? string.Empty;
        var detail = exception.Status.Detail;
        var message = name.Length > 0 ? $"{exception.StatusCode} {name}: {detail}" : $"{exception.StatusCode}: {detail}";
        return new StreamsException(exception.StatusCode, name, message, exception);
    }
}
