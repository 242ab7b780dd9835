using System.Globalization;
using Streams.Load.Engine;

namespace Streams.Load.Performance;

/// <summary>One scenario to run: what it drives, its record size and batch, its shards, and its pace.</summary>
internal sealed record ScenarioSpec(ScenarioKind Kind, int RecordBytes, LoadProfile Profile)
{
    /// <summary>Records per operation for the batch kinds (PutRecords, Produce).</summary>
    public int Batch { get; init; } = 100;

    public int Shards { get; init; } = 4;

    /// <summary>A fake target's fixed delay.</summary>
    public TimeSpan FakeDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>A fake target's stall: when it starts (from the beginning of the warm-up) and how long it lasts (zero: none).</summary>
    public TimeSpan FakeStallStart { get; init; }

    public TimeSpan FakeStallLength { get; init; }

    /// <summary>A name unique within a run, such as <c>sdk-100B-closed</c>; also names the stream.</summary>
    public string Key(string setupKey) => string.Create(
        CultureInfo.InvariantCulture,
        $"{setupKey}-{Kind.ToString().ToLowerInvariant()}-{RecordBytes}B-{Profile.Pacing.ToString().ToLowerInvariant()}{(Profile.Pacing == PacingKind.ClosedLoop ? "" : "-" + ((long)Profile.Rate).ToString(CultureInfo.InvariantCulture))}");
}
