using Streams.Client.Api;
using Streams.Rpc;

namespace Streams.Client.Retries;

/// <summary>
/// Which failures are worth another attempt, and how long to wait before it: exponential backoff
/// with jitter, so that clients that failed together do not retry together. Pure: the caller
/// supplies the random draw.
/// </summary>
/// <param name="initialDelay">The delay before the first retry.</param>
/// <param name="maxDelay">The longest delay.</param>
internal sealed class RetryPolicy(TimeSpan initialDelay, TimeSpan maxDelay)
{
    /// <summary>
    /// True for failures that leave nothing done, or that an idempotent retry makes safe: no
    /// leader or node reachable (UNAVAILABLE), a shard over its rate, a call aborted by a leader change.
    /// </summary>
    /// <param name="exception">The failure.</param>
    public static bool IsRetryable(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode switch
        {
            StatusCode.Unavailable or StatusCode.Aborted => true,
            StatusCode.ResourceExhausted => exception.Trailers.GetValue(StreamsErrors.TrailerName) == StreamsErrors.ProvisionedThroughputExceeded,
            _ => false,
        };
    }

    /// <summary>True when the failure suggests the cluster changed under the client (a leader moved, a node went away): its shard maps are stale.</summary>
    /// <param name="exception">The failure.</param>
    public static bool SuggestsStaleRouting(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode is StatusCode.Unavailable or StatusCode.Aborted
            || exception.Trailers.GetValue(StreamsErrors.LeaderTrailerName) is not null;
    }

    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (0 for the first): the capped
    /// exponential delay, of which the upper half is jittered by <paramref name="unitRandom"/> in [0, 1).
    /// </summary>
    /// <param name="retry">How many retries came before this one.</param>
    /// <param name="unitRandom">A random draw in [0, 1).</param>
    public TimeSpan DelayBefore(int retry, double unitRandom)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retry);
        var exponent = Math.Min(retry, 30);
        var cap = Math.Min(maxDelay.TotalMilliseconds, initialDelay.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds((cap / 2) + (Math.Clamp(unitRandom, 0, 1) * cap / 2));
    }
}
