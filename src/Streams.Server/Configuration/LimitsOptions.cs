namespace Streams.Server.Configuration;

/// <summary>
/// The API's limits, Kinesis' by default: configuration section <c>Limits</c>. A request beyond
/// one is INVALID_ARGUMENT naming the field and the limit.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string SectionName = "Limits";

    /// <summary>The largest record's data (1 MiB).</summary>
    public int MaxRecordBytes { get; init; } = 1024 * 1024;

    /// <summary>The longest partition key, in characters (256).</summary>
    public int MaxPartitionKeyLength { get; init; } = 256;

    /// <summary>Records in one PutRecords or Produce batch (500).</summary>
    public int MaxRecordsPerPut { get; init; } = 500;

    /// <summary>Bytes of data and partition keys in one PutRecords or Produce batch (5 MiB).</summary>
    public int MaxBytesPerPut { get; init; } = 5 * 1024 * 1024;

    /// <summary>Records one GetRecords returns at most (10,000).</summary>
    public int MaxRecordsPerGet { get; init; } = 10_000;

    /// <summary>Bytes one GetRecords returns at most (10 MiB).</summary>
    public int MaxBytesPerGet { get; init; } = 10 * 1024 * 1024;

    /// <summary>Checks the settings; returns one message per problem (empty: all good).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Check(problems, nameof(MaxRecordBytes), MaxRecordBytes, 1, 32 * 1024 * 1024);
        Check(problems, nameof(MaxPartitionKeyLength), MaxPartitionKeyLength, 1, 64 * 1024);
        Check(problems, nameof(MaxRecordsPerPut), MaxRecordsPerPut, 1, 100_000);
        Check(problems, nameof(MaxBytesPerPut), MaxBytesPerPut, 1, 60 * 1024 * 1024);
        Check(problems, nameof(MaxRecordsPerGet), MaxRecordsPerGet, 1, 1_000_000);
        Check(problems, nameof(MaxBytesPerGet), MaxBytesPerGet, 1, 256 * 1024 * 1024);
        return problems;
    }

    private static void Check(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{SectionName}:{name} is {value}; use {min} to {max}.");
        }
    }
}
