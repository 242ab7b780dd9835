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
        catch (StreamsApiException ex)
        {
            // CreateStream of a name in use is ALREADY_EXISTS, as the gRPC codes intend.
            throw created && ex.ErrorName == StreamsErrors.ResourceInUse
                ? new StreamsApiException(StatusCode.AlreadyExists, ex.ErrorName, ex.Message).ToRpcException()
                : ex.ToRpcException();
        }
        catch (Exception ex) when (ex is NotLeaderException or TimeoutException or RaftGroupStoppedException or ProposalDroppedException)
        {
            throw StreamsApiException.Unavailable($"The request met a leader change or a stopping group ({ex.Message}); retry.").ToRpcException();
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            CallFailed(logger, ex, context.Method);
            throw new StreamsApiException($"Internal failure: {ex.Message}", ex).ToRpcException();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed unexpectedly")]
    private static partial void CallFailed(ILogger logger, Exception exception, string method);
}
