namespace Streams.Load;

/// <summary>What <c>streams-load rpc</c> measures and how.</summary>
internal sealed record LoadSettings
{
    /// <summary>How long each measured run lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long each measurement is warmed up (not counted).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Runs per measurement; the median is reported.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>The server runs in a child process.</summary>
    public bool ServerProcess { get; init; }

    public FileInfo? MarkdownFile { get; init; }

    public FileInfo? JsonFile { get; init; }

    /// <summary>Payload bytes of a unary request and of its response.</summary>
    public int UnaryPayloadBytes { get; init; } = 100;

    /// <summary>Concurrent callers of the high-concurrency unary measurement, all over one channel.</summary>
    public int HighConcurrency { get; init; } = 64;

    /// <summary>Concurrent server streams of a streaming measurement.</summary>
    public int StreamConcurrency { get; init; } = 1;

    /// <summary>Payload bytes delivered per stream before it completes and the next starts; bounds a stream's length.</summary>
    public long BytesPerStream { get; init; } = 64L * 1024 * 1024;

    /// <summary>The deadline of each unary call.</summary>
    public TimeSpan UnaryDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The deadline of each streaming call.</summary>
    public TimeSpan StreamDeadline { get; init; } = TimeSpan.FromSeconds(60);
}
