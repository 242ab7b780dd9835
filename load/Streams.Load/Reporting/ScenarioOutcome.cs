namespace Streams.Load.Reporting;

/// <summary>
/// What one scenario measured against one target.
/// </summary>
/// <param name="Key">A short unique key, such as <c>streams-1n-rf1-always-produce-100B-max</c>.</param>
/// <param name="System">The system measured: <c>Streams</c> or <c>NATS JetStream</c> (or <c>fake</c>).</param>
/// <param name="Target">How it ran, such as <c>1 node, RF 1, durability always</c>.</param>
/// <param name="Workload">What was sent, such as <c>SDK producer (Produce stream), 100 B records</c>.</param>
/// <param name="Profile">How it was paced: <c>closed loop, 64 virtual producers</c>, <c>open loop 20,000 records/s</c>, <c>ramp 1,000 to 40,000 records/s</c>.</param>
/// <param name="Guarantee">What an acknowledgement meant, such as <c>acked after a majority fsynced</c>.</param>
/// <param name="RecordBytes">Bytes of data per record.</param>
/// <param name="OfferedRecordsPerSecond">The open-loop rate asked for (for a ramp, its end), or 0 for closed loop.</param>
/// <param name="RecordsPerSecond">Records acknowledged per second over the measured time.</param>
/// <param name="MegabytesPerSecond">Record data acknowledged per second, in MB (10^6 bytes).</param>
/// <param name="Operations">Operations completed in the measured time.</param>
/// <param name="Records">Records acknowledged in the measured time.</param>
/// <param name="Errors">Operations that failed in the measured time.</param>
/// <param name="Measured">The measured time (warm-up excluded).</param>
/// <param name="Warmup">The warm-up before it, not counted.</param>
/// <param name="Latency">Latency over the measured time: from each operation's intended start (open loop) or its actual start (closed loop) to its acknowledgement; for end-to-end, from put to delivery.</param>
/// <param name="Timeline">Per interval, in order.</param>
/// <param name="Notes">Anything a reader must know about this run (such as a target that fell behind its offered rate).</param>
internal sealed record ScenarioOutcome(
    string Key,
    string System,
    string Target,
    string Workload,
    string Profile,
    string Guarantee,
    int RecordBytes,
    double OfferedRecordsPerSecond,
    double RecordsPerSecond,
    double MegabytesPerSecond,
    long Operations,
    long Records,
    long Errors,
    TimeSpan Measured,
    TimeSpan Warmup,
    LatencySummary Latency,
    IReadOnlyList<TimelinePoint> Timeline,
    IReadOnlyList<string> Notes);
