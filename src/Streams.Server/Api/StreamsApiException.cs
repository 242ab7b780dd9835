using Streams.Client.Api;
using Streams.Rpc;
using RpcMetadata = Streams.Rpc.Metadata;

namespace Streams.Server.Api;

/// <summary>
/// A refusal the API reports to the caller: a gRPC status, the Kinesis-style error name that goes
/// in the <c>streams-error</c> trailer, and a message that says what to change. Any layer of the
/// node may throw it; the services turn it into an <see cref="RpcException"/>.
/// </summary>
public sealed class StreamsApiException : Exception
{
    /// <summary>Creates a refusal.</summary>
    public StreamsApiException(StatusCode code, string errorName, string message, string? leaderHint = null)
        : base(message)
    {
        Code = code;
        ErrorName = errorName;
        LeaderHint = leaderHint;
    }

    /// <summary>Creates an internal failure with a message.</summary>
    public StreamsApiException()
        : this(StatusCode.Internal, StreamsErrors.InternalFailure, "Internal failure.")
    {
    }

    /// <summary>Creates an internal failure with a message.</summary>
    public StreamsApiException(string message)
        : this(StatusCode.Internal, StreamsErrors.InternalFailure, message)
    {
    }

    /// <summary>Creates an internal failure with a message and its cause.</summary>
    public StreamsApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = StatusCode.Internal;
        ErrorName = StreamsErrors.InternalFailure;
    }

    /// <summary>The gRPC status code.</summary>
    public StatusCode Code { get; }

    /// <summary>The error name for the <c>streams-error</c> trailer.</summary>
    public string ErrorName { get; }

    /// <summary>The node believed to lead, for UNAVAILABLE; null when unknown.</summary>
    public string? LeaderHint { get; }

    /// <summary>INVALID_ARGUMENT (InvalidArgumentException).</summary>
    public static StreamsApiException InvalidArgument(string message) => new(StatusCode.InvalidArgument, StreamsErrors.InvalidArgument, message);

    /// <summary>NOT_FOUND (ResourceNotFoundException).</summary>
    public static StreamsApiException NotFound(string message) => new(StatusCode.NotFound, StreamsErrors.ResourceNotFound, message);

    /// <summary>FAILED_PRECONDITION (ResourceInUseException): the resource is not in a state for this.</summary>
    public static StreamsApiException InUse(string message) => new(StatusCode.FailedPrecondition, StreamsErrors.ResourceInUse, message);

    /// <summary>UNAVAILABLE (ServiceUnavailableException), with the leader believed current.</summary>
    public static StreamsApiException Unavailable(string message, string? leaderHint = null) => new(StatusCode.Unavailable, StreamsErrors.Unavailable, message, leaderHint);

    /// <summary>The RPC error the caller receives.</summary>
    public RpcException ToRpcException()
    {
        var trailers = new RpcMetadata().Add(StreamsErrors.TrailerName, ErrorName);
        if (!string.IsNullOrEmpty(LeaderHint))
        {
            trailers.Add(StreamsErrors.LeaderTrailerName, LeaderHint);
        }

        return new RpcException(Code, Message, trailers);
    }
}
