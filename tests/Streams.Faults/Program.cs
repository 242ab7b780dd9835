using System.CommandLine;
using System.CommandLine.Parsing;
using Streams.Faults;
using Streams.Faults.Nemesis;
using Streams.Faults.Workload;
using Streams.Load;

var defaults = new FaultRunOptions();
var hosts = new Option<int>("--hosts") { Description = "Hosts (network namespaces), one node each.", DefaultValueFactory = _ => defaults.Hosts };
var duration = new Option<TimeSpan>("--duration") { Description = "How long the nemesis injects faults (such as 90s or 30m).", DefaultValueFactory = _ => defaults.Length, CustomParser = ParseDuration, HelpName = "duration" };
var seed = new Option<int?>("--seed") { Description = "Seeds the faults and the workload; a run's seed is printed, and the same seed draws the same faults." };
var shards = new Option<int>("--shards") { Description = "Shards of the stream.", DefaultValueFactory = _ => defaults.Shards };
var replication = new Option<int>("--replication-factor") { Description = "Replicas per shard.", DefaultValueFactory = _ => defaults.ReplicationFactor };
var producers = new Option<int>("--producers") { Description = "Idempotent producers.", DefaultValueFactory = _ => defaults.Producing.Producers };
var rate = new Option<int>("--rate") { Description = "Records per second, per producer.", DefaultValueFactory = _ => defaults.Producing.RecordsPerSecond };
var recordBytes = new Option<int>("--record-bytes") { Description = "Bytes per record.", DefaultValueFactory = _ => defaults.Producing.RecordBytes };
var consumers = new Option<int>("--consumers") { Description = "Members of the consumer group.", DefaultValueFactory = _ => defaults.Consumers };
var recoveryBound = new Option<TimeSpan>("--recovery-bound") { Description = "How soon after a heal every shard must acknowledge writes again.", DefaultValueFactory = _ => defaults.RecoveryBound, CustomParser = ParseDuration, HelpName = "duration" };
var faults = new Option<string[]>("--faults")
{
    Description = $"The fault kinds to draw from (default: all the hosts can do): {string.Join(", ", FaultPlanOptions.AllKinds)}.",
    AllowMultipleArgumentsPerToken = true,
};
var prefix = new Option<string?>("--prefix") { Description = "Names the namespaces and interfaces (1-8 lower-case letters or digits; default ft<pid>)." };
var workDirectory = new Option<string?>("--work-dir") { Description = "Where node data, host state and (after a failure) node logs go; default a new temporary directory." };
var keep = new Option<bool>("--keep") { Description = "Keep the work directory after a passing run too." };
var nodeArguments = new Option<string[]>("--node-arg") { Description = "A setting for every node, such as --node-arg=--Cluster:TickMilliseconds --node-arg=20 (repeatable)." };

var command = new RootCommand(
    "Streams fault-injection run: nodes in network namespaces (deploy/netns/hosts.sh, needs root), idempotent producers and a consumer group, "
    + "a nemesis of random faults (partitions, pauses, crashes, delay, loss, reorder), then a check of the history. Exit code 0: passed; 1: findings; 2: the run could not be set up.")
{
    hosts, duration, seed, shards, replication, producers, rate, recordBytes, consumers, recoveryBound, faults, prefix, workDirectory, keep, nodeArguments,
};
command.SetAction(async (parse, cancellationToken) =>
{
    var kinds = new List<FaultKind>();
    foreach (var name in (parse.GetValue(faults) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
    {
        if (!Enum.TryParse<FaultKind>(name, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            await Console.Error.WriteLineAsync($"--faults: '{name}' is not a fault kind; use {string.Join(", ", FaultPlanOptions.AllKinds)}.");
            return 2;
        }

        kinds.Add(kind);
    }

    var options = new FaultRunOptions
    {
        Hosts = parse.GetValue(hosts),
        Length = parse.GetValue(duration),
        Seed = parse.GetValue(seed) ?? Random.Shared.Next(),
        Shards = parse.GetValue(shards),
        ReplicationFactor = parse.GetValue(replication),
        Producing = new ProducerWorkloadOptions
        {
            Producers = parse.GetValue(producers),
            RecordsPerSecond = parse.GetValue(rate),
            RecordBytes = parse.GetValue(recordBytes),
        },
        Consumers = parse.GetValue(consumers),
        RecoveryBound = parse.GetValue(recoveryBound),
        Kinds = kinds.Count > 0 ? kinds : null,
        Prefix = parse.GetValue(prefix),
        WorkDirectory = parse.GetValue(workDirectory),
        KeepWorkDirectory = parse.GetValue(keep),
        NodeArguments = parse.GetValue(nodeArguments) ?? [],
    };
    try
    {
        options.Validate();
        var result = await FaultRun.RunAsync(options, RepoRoot.Find(), Console.WriteLine, cancellationToken);
        Console.WriteLine();
        Console.Write(FaultRunSummary.Format(result, options));
        return result.Passed ? 0 : 1;
    }
    catch (ArgumentException ex)
    {
        await Console.Error.WriteLineAsync(ex.Message);
        return 2;
    }
    catch (FaultRunException ex)
    {
        await Console.Error.WriteLineAsync($"the fault run could not be carried out (seed {options.Seed}): {ex.Message}");
        return 2;
    }
});

return await command.Parse(args).InvokeAsync();

static TimeSpan ParseDuration(ArgumentResult result) => DurationText.ParseArgument(result, examples: "90s or 30m");
