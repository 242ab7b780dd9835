namespace Streams.Raft.Transport;

/// <summary>Settings of a <see cref="RpcRaftTransport"/>.</summary>
public sealed class RpcRaftTransportOptions
{
    /// <summary>
    /// The most messages queued for one peer while a batch is in flight; beyond it the oldest are
    /// dropped (counted in <see cref="RpcRaftTransport.MessagesDropped"/>): they are the stalest.
    /// </summary>
    public int MaxQueuedMessagesPerPeer { get; init; } = 16_384;

    /// <summary>
    /// The most bytes (roughly) in one batch; the rest waits for the next call. Keep it below the
    /// receivers' <c>RpcServerOptions.MaxReceiveMessageSizeBytes</c> (4 MiB by default) less the
    /// largest single message (an Append is at most <c>MaxBytesPerMessage</c>, 1 MiB by default).
    /// </summary>
    public int MaxBatchBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>How long one batch call may take before it fails and its messages are dropped.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for a TCP connection to a peer.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The pause after the first failed call to a peer; it doubles per further failure.</summary>
    public TimeSpan InitialReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest pause between attempts to reach a peer that keeps failing.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws an <see cref="ArgumentException"/> naming every invalid setting and what to change.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxQueuedMessagesPerPeer < 1)
        {
            problems.Add($"{nameof(MaxQueuedMessagesPerPeer)} is {MaxQueuedMessagesPerPeer}; set it to at least 1.");
        }

        if (MaxBatchBytes < 1024)
        {
            problems.Add($"{nameof(MaxBatchBytes)} is {MaxBatchBytes}; set it to at least 1024.");
        }

        if (CallTimeout <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(CallTimeout)} is {CallTimeout}; set it to a positive duration.");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(ConnectTimeout)} is {ConnectTimeout}; set it to a positive duration.");
        }

        if (InitialReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < InitialReconnectDelay)
        {
            problems.Add($"{nameof(InitialReconnectDelay)} ({InitialReconnectDelay}) must be positive and at most {nameof(MaxReconnectDelay)} ({MaxReconnectDelay}).");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Raft transport options: " + string.Join(" ", problems));
        }
    }
}
