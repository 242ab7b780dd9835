namespace Streams.Rpc;

/// <summary>
/// A call that ended with a status other than OK. Thrown by clients when the server (or the
/// transport, or a deadline) ends a call with an error; thrown by service code to end a call
/// with that status.
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception for <paramref name="status"/> with optional trailers.</summary>
    public RpcException(RpcStatus status, Metadata? trailers = null, Exception? innerException = null)
        : base(status.ToString(), innerException)
    {
        Status = status;
        Trailers = trailers ?? new Metadata();
    }

    /// <summary>Creates an exception for a status code and detail.</summary>
    public RpcException(StatusCode code, string detail, Metadata? trailers = null)
        : this(new RpcStatus(code, detail), trailers)
    {
    }

    /// <summary>The status the call ended with.</summary>
    public RpcStatus Status { get; }

    /// <summary>The status code the call ended with.</summary>
    public StatusCode StatusCode => Status.Code;

    /// <summary>The trailing metadata (as received by a client, or to send by a server).</summary>
    public Metadata Trailers { get; }
}
