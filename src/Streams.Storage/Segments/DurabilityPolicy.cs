namespace Streams.Storage.Segments;

/// <summary>When appended batches are forced to stable storage (fsync).</summary>
public enum DurabilityPolicy
{
    /// <summary>
    /// Group commit: a background flusher fsyncs as soon as there is something to flush, and one
    /// fsync covers every batch appended while the previous one ran. Appenders never wait behind an
    /// fsync; a caller that needs durability awaits <see cref="SegmentLog.WaitForDurableAsync"/>.
    /// </summary>
    Always,

    /// <summary>An fsync every <see cref="SegmentLogOptions.FlushInterval"/> when something was appended.</summary>
    Interval,

    /// <summary>
    /// Left to the operating system: no fsync except when a segment rolls and when the log is
    /// disposed. <see cref="SegmentLog.DurableIndex"/> then equals <see cref="SegmentLog.LastIndex"/>.
    /// </summary>
    Never,
}
