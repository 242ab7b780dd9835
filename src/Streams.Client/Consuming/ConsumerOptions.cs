using System.Globalization;
using Streams.V1;

namespace Streams.Client.Consuming;

/// <summary>
/// What a <see cref="Consumer"/> consumes and how: the stream and group, the member's session, how
/// it reads, and when it checkpoints. Checked by <see cref="Validate"/>, which the consumer calls.
/// </summary>
/// <remarks>
/// Checkpoints: by default every <see cref="CheckpointInterval"/> (5 s) while records were
/// processed; <see cref="CheckpointEveryRecords"/> adds a checkpoint every N records, whichever
/// comes first. With both off (0 and <see cref="TimeSpan.Zero"/>) only the application checkpoints,
/// with <see cref="Consumer.CheckpointAsync(ConsumedRecord, CancellationToken)"/>; see
/// <see cref="ChecksManually"/>.
/// </remarks>
public sealed class ConsumerOptions
{
    /// <summary>The longest group name or member id the server accepts.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The stream to consume (required).</summary>
    public string StreamName { get; init; } = string.Empty;

    /// <summary>
    /// The consumer group: the application's name (required; 1-128 characters of letters, digits,
    /// '_', '.' and '-'). Consumers of one group share the stream's shards and its checkpoints.
    /// </summary>
    public string GroupName { get; init; } = string.Empty;

    /// <summary>
    /// This consumer's id in the group, unique while it lives (1-128 characters of letters, digits,
    /// '_', '.', ':' and '-'). Null, the default, makes one of the host name, the process id and a
    /// random suffix.
    /// </summary>
    public string? MemberId { get; init; }

    /// <summary>
    /// How long this consumer may go without a heartbeat before the server gives its shards to the
    /// others (10 s by default; 1 s to 300 s). Shorter hands over faster after a crash; longer
    /// survives longer pauses. The consumer heartbeats at the interval the server suggests (a third).
    /// </summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where the group starts on shards it has no checkpoint for, when this consumer's join creates
    /// the group: <see cref="InitialPosition.TrimHorizon"/> (the oldest records, the default) or
    /// <see cref="InitialPosition.Latest"/> (records written from then on). Ignored by an existing group.
    /// </summary>
    public InitialPosition InitialPosition { get; init; } = InitialPosition.TrimHorizon;

    /// <summary>The most records one read (GetRecords) returns (1,000 by default; 1 to 10,000).</summary>
    public int MaxRecordsPerRead { get; init; } = 1000;

    /// <summary>How long a shard's reader waits after a read that found no new records (250 ms by default; 1 ms to 1 minute).</summary>
    public TimeSpan IdleDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Checkpoint a shard after this many records processed since its last checkpoint (0, the default, turns counting off).</summary>
    public int CheckpointEveryRecords { get; init; }

    /// <summary>
    /// Checkpoint a shard when records processed have waited this long for a checkpoint (5 s by
    /// default; <see cref="TimeSpan.Zero"/> turns it off; else 100 ms to 1 hour).
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a graceful stop may take: handlers finishing, the last checkpoints and LeaveGroup
    /// (10 s by default; 1 s to 5 minutes).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True when both checkpoint triggers are off: only the application checkpoints, nothing is
    /// checkpointed at a graceful stop, and a closed shard is released (its children leased) only
    /// once its last record was checkpointed.
    /// </summary>
    public bool ChecksManually => CheckpointEveryRecords == 0 && CheckpointInterval == TimeSpan.Zero;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the option, its range and its value when a setting is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(StreamName))
        {
            throw new ArgumentException("ConsumerOptions.StreamName is empty; name the stream to consume.", nameof(StreamName));
        }

        CheckName(GroupName, nameof(GroupName), static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-', "letters, digits, '_', '.' and '-'", "the application's name, such as 'billing'");
        if (MemberId is not null)
        {
            CheckName(MemberId, nameof(MemberId), GeneratedMemberId.IsAllowed, "letters, digits, '_', '.', ':' and '-'", "or leave it null to have one made");
        }

        Require(SessionTimeout >= TimeSpan.FromSeconds(1) && SessionTimeout <= TimeSpan.FromSeconds(300), nameof(SessionTimeout), $"must be between 1 s and 300 s; it is {Show(SessionTimeout)}");
        Require(InitialPosition is InitialPosition.TrimHorizon or InitialPosition.Latest or InitialPosition.Unspecified, nameof(InitialPosition), $"must be TrimHorizon or Latest; it is {InitialPosition}");
        Require(MaxRecordsPerRead is >= 1 and <= 10_000, nameof(MaxRecordsPerRead), $"must be between 1 and 10,000; it is {MaxRecordsPerRead.ToString(CultureInfo.InvariantCulture)}");
        Require(IdleDelay >= TimeSpan.FromMilliseconds(1) && IdleDelay <= TimeSpan.FromMinutes(1), nameof(IdleDelay), $"must be between 1 ms and 1 minute; it is {Show(IdleDelay)}");
        Require(CheckpointEveryRecords >= 0, nameof(CheckpointEveryRecords), $"must be 0 (off) or more; it is {CheckpointEveryRecords.ToString(CultureInfo.InvariantCulture)}");
        Require(CheckpointInterval == TimeSpan.Zero || (CheckpointInterval >= TimeSpan.FromMilliseconds(100) && CheckpointInterval <= TimeSpan.FromHours(1)), nameof(CheckpointInterval), $"must be TimeSpan.Zero (off) or between 100 ms and 1 hour; it is {Show(CheckpointInterval)}");
        Require(ShutdownTimeout >= TimeSpan.FromSeconds(1) && ShutdownTimeout <= TimeSpan.FromMinutes(5), nameof(ShutdownTimeout), $"must be between 1 s and 5 minutes; it is {Show(ShutdownTimeout)}");
    }

    private static void CheckName(string value, string name, Func<char, bool> allowed, string alphabet, string hint)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"ConsumerOptions.{name} is empty; give 1 to {MaxNameLength} characters of {alphabet} ({hint}).", name);
        }

        if (value.Length > MaxNameLength || !value.All(allowed))
        {
            var shown = value.Length <= 48 ? value : string.Concat(value.AsSpan(0, 45), "...");
            throw new ArgumentException($"ConsumerOptions.{name} must be 1 to {MaxNameLength} characters of {alphabet}; '{shown}' ({value.Length.ToString(CultureInfo.InvariantCulture)} characters) is not.", name);
        }
    }

    private static void Require(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"ConsumerOptions.{name} {problem}.", name);
        }
    }

    private static string Show(TimeSpan value) => value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms";
}
