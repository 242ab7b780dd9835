using FsCheck;
using FsCheck.Fluent;
using Streams.Raft.Membership;
using Streams.Raft.Storage;
using Streams.Server.Shards.Log;
using Streams.Storage.Batches;
using Streams.Storage.Segments;
using static Streams.Server.Tests.Shards.Log.ShardLogTestEntries;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>
/// A model-based property: whatever a Raft group does to its storage, the shard log answers as
/// <see cref="MemoryRaftLog"/> does (the reference), also after closing and reopening.
/// </summary>
public sealed class ShardRaftLogModelTests
{
    private static readonly Gen<Operation> _operations = Gen.Frequency(
        (10, from count in Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, 4)), (1, Gen.Choose(5, 25)))
             from back in Gen.Frequency((5, Gen.Constant(0)), (2, Gen.Choose(1, 3)), (1, Gen.Choose(4, 30)))
             from newTerm in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
             from hardState in Gen.Frequency((1, Gen.Constant(false)), (3, Gen.Constant(true)))
             from seed in Gen.Choose(0, 1_000_000)
             select (Operation)new SaveOperation(count, back, newTerm, hardState, seed)),
        (2, from permille in Gen.Choose(0, 1000)
            from seed in Gen.Choose(0, 1_000_000)
            select (Operation)new CompactOperation(permille, seed)),
        (1, from jump in Gen.Choose(0, 30)
            from count in Gen.Choose(0, 3)
            from hardState in Gen.Elements(true, false)
            from seed in Gen.Choose(0, 1_000_000)
            select (Operation)new InstallOperation(jump, count, hardState, seed)),
        (2, from seed in Gen.Choose(0, 1_000_000)
            select (Operation)new RetentionOperation(seed)),
        (2, from minutes in Gen.Choose(1, 90)
            select (Operation)new AdvanceClockOperation(minutes)),
        (2, Gen.Constant((Operation)new ReopenOperation())));

    /// <summary>
    /// Any sequence of saves (conflicting suffixes, record batches with placeholder or real
    /// positions, no-ops, configuration entries, application control batches, hard states),
    /// compactions, snapshot installations, retention, clock moves and reopenings leaves the log
    /// observably equal to a MemoryRaftLog fed the same sequence: first and last index, every
    /// term, entries (whole and by byte limit), hard state and snapshot. 100 cases by default;
    /// STREAMS_LONG_TESTS=1 runs 1,000.
    /// </summary>
    [Fact]
    public void Any_sequence_of_operations_answers_as_the_memory_log()
    {
        var property = Prop.ForAll(
            (from durability in Gen.Frequency((3, Gen.Constant(DurabilityPolicy.Never)), (1, Gen.Constant(DurabilityPolicy.Always)))
             from segmentBytes in Gen.Elements(4096L, 16_384L)
             from n in Gen.Choose(1, 40)
             from operations in Gen.ArrayOf(_operations, n)
             select new Scenario(durability, segmentBytes, operations)).ToArbitrary(),
            (Scenario scenario) => RunAsync(scenario));
        var tests = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1" ? 1000 : 100;
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(tests), property);
    }

    private static async Task RunAsync(Scenario scenario)
    {
        using var dir = new TempDirectory();
        var clock = new ShardLogTestClock();
        var options = Options(dir.Path, scenario.Durability, scenario.SegmentBytes);
        var model = new MemoryRaftLog();
        var term = 1L;
        var commit = 0L;
        var log = await ShardRaftLog.OpenAsync(options, clock);
        try
        {
            for (var step = 0; step < scenario.Operations.Length; step++)
            {
                var operation = scenario.Operations[step];
                var random = new Random(operation.Seed);
                switch (operation)
                {
                    case SaveOperation save:
                        term += save.NewTerm ? 1 : 0;
                        var first = Math.Max(Math.Max(model.FirstIndex, commit + 1), model.LastIndex + 1 - save.Back);
                        var entries = Enumerable.Range(0, save.Count).Select(i => MakeEntry(term, first + i, clock.NowMs, random)).ToArray();
                        HardState? hardState = null;
                        if (save.HardState)
                        {
                            var last = entries.Length > 0 ? entries[^1].Index : model.LastIndex;
                            commit = commit + (long)(random.NextDouble() * (last - commit + 1));
                            hardState = new HardState(term, random.Next(0, 4), commit);
                        }

                        await model.SaveAsync(hardState, [.. entries.Select(Stored)], null, default);
                        await log.SaveAsync(hardState, entries, null, default);
                        break;

                    case CompactOperation compact when commit >= model.FirstIndex:
                        var index = model.FirstIndex + ((commit - model.FirstIndex) * compact.Permille / 1000);
                        var snapshot = new Snapshot(new SnapshotMetadata(index, model.Term(index), Members(random)), Bytes(random));
                        await model.CompactAsync(snapshot, default);
                        await log.CompactAsync(snapshot, default);
                        break;

                    case InstallOperation install:
                        term++;
                        var at = commit + 1 + install.Jump;
                        var installed = new Snapshot(new SnapshotMetadata(at, term, Members(random)), Bytes(random));
                        var after = Enumerable.Range(1, install.Count).Select(i => MakeEntry(term, at + i, clock.NowMs, random)).ToArray();
                        commit = at;
                        HardState? installedState = install.HardState ? new HardState(term, random.Next(0, 4), at) : null;
                        await model.SaveAsync(installedState, [.. after.Select(Stored)], installed, default);
                        await log.SaveAsync(installedState, after, installed, default);
                        break;

                    case RetentionOperation:
                        await RetainAsync(model, log, clock, commit, random);
                        break;

                    case AdvanceClockOperation advance:
                        clock.Advance(TimeSpan.FromMinutes(advance.Minutes));
                        break;

                    case ReopenOperation:
                        await log.DisposeAsync();
                        log = await ShardRaftLog.OpenAsync(options, clock);
                        break;
                }

                AssertSame(model, log, $"after step {step} ({operation})", random);
            }

            await log.DisposeAsync();
            log = await ShardRaftLog.OpenAsync(options, clock);
            AssertSame(model, log, "after the final reopening", new Random(0));
        }
        finally
        {
            await log.DisposeAsync();
        }
    }

    /// <summary>
    /// Retention as specified: the oldest closed segments, expired and applied, go; a snapshot is
    /// asked for their last index only when it is past the held one, and the model compacts to it.
    /// </summary>
    private static async Task RetainAsync(MemoryRaftLog model, ShardRaftLog log, ShardLogTestClock clock, long applied, Random random)
    {
        var segments = log.Segments.Segments;
        var cutoff = clock.NowMs - (long)TimeSpan.FromHours(1).TotalMilliseconds;
        var expired = 0;
        while (expired < segments.Count - 1 && segments[expired].MaxTimestampMs < cutoff && segments[expired].LastIndex <= applied)
        {
            expired++;
        }

        var asked = new List<long>();
        var content = new SnapshotContent(Members(random), Bytes(random));
        var deleted = await log.ApplyRetentionAsync(
            applied,
            (index, _) =>
            {
                asked.Add(index);
                return ValueTask.FromResult(content);
            },
            default);
        Assert.Equal(expired, deleted);
        if (expired == 0)
        {
            Assert.Empty(asked);
            return;
        }

        var through = segments[expired - 1].LastIndex;
        Assert.Equal(through + 1, log.Segments.FirstIndex);
        if (through < model.FirstIndex)
        {
            Assert.Empty(asked);
            return;
        }

        Assert.Equal([through], asked);
        await model.CompactAsync(new Snapshot(new SnapshotMetadata(through, model.Term(through), content.ConfState), content.Data), default);
        Assert.Equal(log.Segments.FirstIndex, log.FirstIndex);
    }

    private static void AssertSame(MemoryRaftLog model, ShardRaftLog log, string when, Random random)
    {
        Assert.True(model.FirstIndex == log.FirstIndex, $"FirstIndex {log.FirstIndex}, expected {model.FirstIndex} {when}");
        Assert.True(model.LastIndex == log.LastIndex, $"LastIndex {log.LastIndex}, expected {model.LastIndex} {when}");
        Assert.True(model.InitialState() == log.InitialState(), $"hard state {log.InitialState()}, expected {model.InitialState()} {when}");
        Assert.True(log.Segments.LastIndex == log.LastIndex, $"segment log ends at {log.Segments.LastIndex} {when}");
        Assert.True(log.Segments.FirstIndex <= log.FirstIndex, $"segment log starts at {log.Segments.FirstIndex} {when}");
        if (model.Snapshot is null)
        {
            Assert.Null(log.Snapshot);
        }
        else
        {
            Assert.NotNull(log.Snapshot);
            Assert.Equal(model.Snapshot.Metadata.Index, log.Snapshot.Metadata.Index);
            Assert.Equal(model.Snapshot.Metadata.Term, log.Snapshot.Metadata.Term);
            Assert.Equal(model.Snapshot.Metadata.ConfState, log.Snapshot.Metadata.ConfState);
            Assert.True(model.Snapshot.Data.Span.SequenceEqual(log.Snapshot.Data.Span), $"snapshot data {when}");
        }

        for (var i = model.FirstIndex - 1; i <= model.LastIndex; i++)
        {
            Assert.True(model.Term(i) == log.Term(i), $"Term({i}) is {log.Term(i)}, expected {model.Term(i)} {when}");
        }

        Assert.Equal(RaftLogError.Unavailable, Assert.Throws<RaftLogException>(() => log.Term(model.LastIndex + 1)).Error);
        if (model.FirstIndex >= 2)
        {
            Assert.Equal(RaftLogError.Compacted, Assert.Throws<RaftLogException>(() => log.Term(model.FirstIndex - 2)).Error);
        }

        AssertEntries(model.Entries(model.FirstIndex, model.LastIndex + 1, long.MaxValue), log.Entries(log.FirstIndex, log.LastIndex + 1, long.MaxValue), when);
        if (model.LastIndex >= model.FirstIndex)
        {
            var lo = model.FirstIndex + random.NextInt64(model.LastIndex - model.FirstIndex + 1);
            var hi = lo + random.NextInt64(model.LastIndex - lo + 2);
            var maxBytes = random.Next(3) == 0 ? 0 : random.NextInt64(4000);
            AssertEntries(model.Entries(lo, hi, maxBytes), log.Entries(lo, hi, maxBytes), $"in [{lo}, {hi}) within {maxBytes} bytes {when}");
        }
    }

    private static void AssertEntries(IReadOnlyList<Entry> expected, IReadOnlyList<Entry> actual, string when)
    {
        Assert.True(expected.Count == actual.Count, $"{actual.Count} entries, expected {expected.Count} {when}");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].ContentEquals(actual[i]), $"entry {actual[i]}, expected {expected[i]} {when}");
        }
    }

    /// <summary>The entries of a shard group: mostly record batches, some no-ops, configuration entries and application control batches.</summary>
    private static Entry MakeEntry(long term, long index, long nowMs, Random random)
    {
        var pick = random.Next(20);
        if (pick < 3)
        {
            return NoOp(term, index);
        }

        if (pick < 6)
        {
            return Config(term, index, random);
        }

        var codec = random.Next(4) == 0 ? BatchCodec.Lz4 : BatchCodec.None;
        var (headerTerm, headerIndex) = random.Next(3) switch
        {
            0 => (0L, 0L),
            1 => (term, index),
            _ => (random.Next(0, 50), random.Next(0, 500)),
        };
        if (pick < 8)
        {
            var rest = new byte[random.Next(0, 300)];
            return new Entry(term, index, ControlBatch((byte)random.Next(ShardLogControlKinds.FirstApplicationKind, 256), headerTerm, headerIndex, rest, codec));
        }

        return new Entry(term, index, RecordBatch(headerTerm, headerIndex, random.Next(1, 4), nowMs, random, codec));
    }

    private static ConfState Members(Random random) =>
        random.Next(4) == 0 ? ConfState.Empty : new ConfState(Enumerable.Range(1, random.Next(1, 6)).Select(i => (long)i), random.Next(2) == 0 ? [] : [9L]);

    private static byte[] Bytes(Random random)
    {
        var bytes = new byte[random.Next(0, 200)];
        random.NextBytes(bytes);
        return bytes;
    }

    private sealed record Scenario(DurabilityPolicy Durability, long SegmentBytes, Operation[] Operations)
    {
        public override string ToString() => $"{Durability}, {SegmentBytes} B segments: {string.Join(", ", Operations.Select(o => o.ToString()))}";
    }

    private abstract record Operation(int Seed);

    private sealed record SaveOperation(int Count, int Back, bool NewTerm, bool HardState, int Seed) : Operation(Seed);

    private sealed record CompactOperation(int Permille, int Seed) : Operation(Seed);

    private sealed record InstallOperation(int Jump, int Count, bool HardState, int Seed) : Operation(Seed);

    private sealed record RetentionOperation(int Seed) : Operation(Seed);

    private sealed record AdvanceClockOperation(int Minutes) : Operation(0);

    private sealed record ReopenOperation() : Operation(0);
}
