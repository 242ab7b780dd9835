using Streams.Client;

namespace Streams.Faults.Workload;

/// <summary>What the history and the summary call a client error: its error name, or its gRPC status when the server gave none (a deadline, say).</summary>
internal static class ErrorNames
{
    public static string Of(StreamsException exception) =>
        exception.ErrorCode.Length > 0 ? exception.ErrorCode : exception.StatusCode.ToString();
}
