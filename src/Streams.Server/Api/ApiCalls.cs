using Streams.Client.Api;
using Streams.Raft.Runtime;
using Streams.Rpc;
using Streams.Rpc.Server;

namespace Streams.Server.Api;

/// <summary>
/// The error mapping every public service shares: a refusal becomes its gRPC status with the
/// Kinesis-style name in the <c>streams-error</c> trailer, a Raft group that lost its leader or
/// stopped becomes UNAVAILABLE (to be retried), anything else is logged and INTERNAL.
/// </summary>
internal static partial class ApiCalls
{
    /// <summary>Runs one call's work and maps what it throws.</summary>
    /// <param name="logger">The service's logger, for unexpected failures.</param>
    /// <param name="context">The call.</param>
    /// <param name="operation">The work.</param>
    /// <param name="created">True for a create: a name in use is then ALREADY_EXISTS.</param>
    public static async Task<T> RunAsync<T>(ILogger logger, ServerCallContext context, Func<Task<T>> operation, bool created = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(operation);
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            var error = ToApiException(logger, ex, context.Method);

            // CreateStream of a name in use is ALREADY_EXISTS, as the gRPC codes intend.
            throw created && error.ErrorName == StreamsErrors.ResourceInUse
                ? new StreamsApiException(StatusCode.AlreadyExists, error.ErrorName, error.Message).ToRpcException()
                : error.ToRpcException();
        }
    }

    /// <summary>
    /// The refusal a failure amounts to, for answers that carry an error in their message (a
    /// Produce stream's per-batch answer) rather than as the call's status: a refusal as it is; a
    /// status relayed from the node a request was forwarded to, with its error name; a leader change
    /// or stopping group as UNAVAILABLE; anything else logged and INTERNAL.
    /// </summary>
    /// <param name="logger">The service's logger, for unexpected failures.</param>
    /// <param name="exception">The failure (not a cancellation).</param>
    /// <param name="method">The method, for the log.</param>
    public static StreamsApiException ToApiException(ILogger logger, Exception exception, string method)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case StreamsApiException refusal:
                return refusal;
            case RpcException relayed:
                var name = relayed.Trailers.GetValue(StreamsErrors.TrailerName);
                return new StreamsApiException(
                    relayed.StatusCode,
                    name ?? (relayed.StatusCode == StatusCode.Unavailable ? StreamsErrors.Unavailable : StreamsErrors.InternalFailure),
                    relayed.Status.Detail,
                    relayed.Trailers.GetValue(StreamsErrors.LeaderTrailerName));
            case NotLeaderException or TimeoutException or RaftGroupStoppedException or ProposalDroppedException:
                return StreamsApiException.Unavailable($"The request met a leader change or a stopping group ({exception.Message}); retry.");
            default:
                CallFailed(logger, exception, method);
                return new StreamsApiException($"Internal failure: {exception.Message}", exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed unexpectedly")]
    private static partial void CallFailed(ILogger logger, Exception exception, string method);
}
