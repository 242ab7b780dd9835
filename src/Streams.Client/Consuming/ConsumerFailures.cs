using Streams.Client.Api;
using Streams.Rpc;

namespace Streams.Client.Consuming;

/// <summary>Which failures a consumer waits out and tries again, rather than stopping on.</summary>
internal static class ConsumerFailures
{
    /// <summary>
    /// True for failures that say nothing about the request itself: no node or leader reachable,
    /// a call cut short, a shard over its rate, a server fault; the client already retried these
    /// for a while, and a consumer goes on trying as long as it runs.
    /// </summary>
    /// <param name="exception">The failure.</param>
    public static bool IsTransient(StreamsException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted
            or StatusCode.ResourceExhausted or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled;
    }

    /// <summary>True when the server says the member's lease (or membership) is gone.</summary>
    /// <param name="exception">The failure.</param>
    public static bool IsLeaseLost(StreamsException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.ErrorCode == StreamsErrors.LeaseLost;
    }
}
