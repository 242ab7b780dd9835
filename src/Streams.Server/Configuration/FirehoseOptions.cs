namespace Streams.Server.Configuration;

/// <summary>
/// How a node's delivery workers behave: configuration section <c>Firehose</c> (for example
/// <c>STREAMS_Firehose__SessionTimeout=00:00:05</c>). The defaults suit production.
/// </summary>
public sealed class FirehoseOptions
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string SectionName = "Firehose";

    /// <summary>How long a node's worker may go without a heartbeat before its shards go to other nodes' workers (10 s).</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the node looks for created, changed and deleted delivery streams (1 s).</summary>
    public TimeSpan ScanInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a shard's worker reports its lag and counters to the controller at most (5 s).</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The wait before reading again after GetRecords returned nothing (200 ms).</summary>
    public TimeSpan IdleDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Records one GetRecords asks for (10,000, the most Kinesis allows).</summary>
    public int MaxRecordsPerRead { get; init; } = 10_000;

    /// <summary>Checks the settings; returns one message per problem (empty: all good).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Check(problems, nameof(SessionTimeout), SessionTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        Check(problems, nameof(ScanInterval), ScanInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        Check(problems, nameof(ReportInterval), ReportInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        Check(problems, nameof(IdleDelay), IdleDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
        if (MaxRecordsPerRead is < 1 or > 10_000)
        {
            problems.Add($"{SectionName}:{nameof(MaxRecordsPerRead)} is {MaxRecordsPerRead}; use 1 to 10000.");
        }

        return problems;
    }

    private static void Check(List<string> problems, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{SectionName}:{name} is {value}; use {min} to {max} (as hh:mm:ss or hh:mm:ss.fff).");
        }
    }
}
