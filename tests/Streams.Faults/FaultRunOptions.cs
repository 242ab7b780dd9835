using Streams.Faults.Nemesis;
using Streams.Faults.Workload;

namespace Streams.Faults;

/// <summary>One fault run: the cluster, the workload, the faults, and the bound on recovery.</summary>
internal sealed record FaultRunOptions
{
    /// <summary>Hosts, one node each.</summary>
    public int Hosts { get; init; } = 3;

    /// <summary>How long the nemesis injects faults (the run is longer: setup, warm-up, drain, check).</summary>
    public TimeSpan Length { get; init; } = TimeSpan.FromSeconds(90);

    public int Seed { get; init; }

    public int Shards { get; init; } = 3;

    public int ReplicationFactor { get; init; } = 3;

    public ProducerWorkloadOptions Producing { get; init; } = new();

    /// <summary>Members of the consumer group.</summary>
    public int Consumers { get; init; } = 2;

    /// <summary>The consumers' session timeout: how soon a frozen member's shards move.</summary>
    public TimeSpan ConsumerSessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>How soon after a heal every shard must acknowledge writes again.</summary>
    public TimeSpan RecoveryBound { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The fault kinds to draw from; null for every kind the hosts can do.</summary>
    public IReadOnlyList<FaultKind>? Kinds { get; init; }

    public TimeSpan MinFault { get; init; } = TimeSpan.FromSeconds(4);

    public TimeSpan MaxFault { get; init; } = TimeSpan.FromSeconds(12);

    public TimeSpan MinQuiet { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxQuiet { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>More settings for every node, last on its command line.</summary>
    public IReadOnlyList<string> NodeArguments { get; init; } = [];

    /// <summary>Names the namespaces and interfaces (at most 8 characters); the default comes from the process id.</summary>
    public string? Prefix { get; init; }

    /// <summary>Where the nodes' data, the hosts' state and (after a failure) the logs go; a new temporary directory when null.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>Keeps the work directory after a passing run too.</summary>
    public bool KeepWorkDirectory { get; init; }

    public void Validate()
    {
        Require(Hosts is >= 3 and <= 9, $"--hosts must be 3 to 9 (was {Hosts}).");
        Require(Shards is >= 1 and <= 64, $"--shards must be 1 to 64 (was {Shards}).");
        Require(ReplicationFactor >= 1 && ReplicationFactor <= Hosts, $"--replication-factor must be 1 to the number of hosts, {Hosts} (was {ReplicationFactor}).");
        Require(Producing.Producers is >= 1 and <= 64, $"--producers must be 1 to 64 (was {Producing.Producers}).");
        Require(Producing.RecordsPerSecond is >= 1 and <= 100_000, $"--rate must be 1 to 100000 records per second per producer (was {Producing.RecordsPerSecond}).");
        Require(Producing.RecordBytes is >= 32 and <= 1024 * 1024, $"--record-bytes must be 32 to 1048576 (was {Producing.RecordBytes}).");
        Require(Consumers is >= 0 and <= 64, $"--consumers must be 0 to 64 (was {Consumers}).");
        Require(Length >= TimeSpan.FromSeconds(10), $"--duration must be at least 10s (was {Length}).");
        Require(MinFault > TimeSpan.Zero && MinFault <= MaxFault, "The shortest fault must be positive and no longer than the longest.");
        Require(MinQuiet >= TimeSpan.Zero && MinQuiet <= MaxQuiet, "The shortest quiet time must be no longer than the longest.");
        Require(RecoveryBound >= TimeSpan.FromSeconds(1), $"--recovery-bound must be at least 1s (was {RecoveryBound}).");
        Require(Prefix is null || (Prefix.Length is >= 1 and <= 8 && Prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))), $"--prefix must be 1 to 8 lower-case letters or digits (was '{Prefix}').");
        Require(Kinds is null || Kinds.Count > 0, "--faults must name at least one fault kind.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
