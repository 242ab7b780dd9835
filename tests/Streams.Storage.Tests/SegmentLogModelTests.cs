using System.Buffers;
using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>
/// Model-based property: any sequence of appends (sizes that force rolling by size, clock moves
/// that force rolling by age, restarts of an emptied log at another index), truncations, prefix
/// deletions, retention, reopenings, reads from random indexes with random limits and lookups by
/// time gives exactly what a plain list of batches says, byte for byte.
/// </summary>
public sealed class SegmentLogModelTests
{
    private static readonly Gen<Op> _ops = Gen.Frequency(
        (8, from count in Gen.Choose(1, 8)
            from size in Gen.Frequency((6, Gen.Constant(0)), (3, Gen.Constant(1)), (1, Gen.Constant(2)), (1, Gen.Constant(3)))
            from seed in Gen.Choose(0, 1_000_000)
            from newTerm in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
            from jump in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(-5, 50)))
            select (Op)new Append(count, size, seed, newTerm, jump)),
        (2, Gen.Choose(0, 1000).Select(p => (Op)new Truncate(p))),
        (2, Gen.Choose(0, 1100).Select(p => (Op)new DeleteBefore(p))),
        (2, Gen.Constant((Op)new Reopen())),
        (5, from p in Gen.Choose(0, 1000)
            from maxBytes in Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Choose(1, 3000)), (2, Gen.Choose(3000, 40_000)))
            from edge in Gen.Frequency((8, Gen.Constant(0)), (1, Gen.Constant(-1)), (1, Gen.Constant(1)))
            select (Op)new Read(p, maxBytes, edge)),
        (3, from p in Gen.Choose(0, 1000)
            from delta in Gen.Choose(-4000, 4000)
            select (Op)new Find(p, delta)),
        (1, Gen.Elements(1, 30, 61, 25 * 60).Select(m => (Op)new AdvanceClock(m))),
        (1, Gen.Constant((Op)new Retention())));

    /// <summary>100 cases by default; STREAMS_LONG_TESTS=1 runs 2,000.</summary>
    [Fact]
    public void Any_sequence_of_operations_reads_back_what_a_model_list_of_batches_says()
    {
        var property = Prop.ForAll(
            Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(_ops, n)).ToArbitrary(),
            (Op[] ops) => RunAsync(ops));
        if (Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1")
        {
            Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), property);
        }
        else
        {
            property.QuickCheckThrowOnFailure();
        }
    }

    private static async Task RunAsync(Op[] ops)
    {
        using var directory = new SegmentTestDirectory();
        var clock = new SegmentTestClock();
        var options = new SegmentLogOptions
        {
            Directory = directory.Path,
            SegmentSizeBytes = 4096,
            IndexIntervalBytes = 256,
            SegmentMaxAge = TimeSpan.FromHours(1),
            Durability = DurabilityPolicy.Never,
        };
        var model = new Model();
        var log = await SegmentLog.OpenAsync(options, clock);
        try
        {
            for (var step = 0; step < ops.Length; step++)
            {
                var op = ops[step];
                switch (op)
                {
                    case Append append:
                        DoAppend(log, model, clock, append);
                        break;
                    case Truncate truncate:
                        var keep = model.First - 1 + ((model.Last - model.First + 1) * truncate.Permille / 1000);
                        log.TruncateAfter(keep);
                        model.TruncateAfter(keep);
                        break;
                    case DeleteBefore delete:
                        DoDeleteBefore(log, model, model.First + ((model.Last + 1 - model.First) * delete.Permille / 1000));
                        break;
                    case Reopen:
                        await log.DisposeAsync();
                        log = await SegmentLog.OpenAsync(options, clock);
                        break;
                    case Read read:
                        DoRead(log, model, read);
                        break;
                    case Find find:
                        DoFind(log, model, clock, find);
                        break;
                    case AdvanceClock advance:
                        clock.Advance(TimeSpan.FromMinutes(advance.Minutes));
                        break;
                    case Retention:
                        DoRetention(log, model, clock, options);
                        break;
                }

                CheckWatermarks(log, model, $"after step {step} ({op})");
            }

            CheckEveryIndex(log, model);
            await log.DisposeAsync();
            log = await SegmentLog.OpenAsync(options, clock);
            CheckWatermarks(log, model, "after the final reopening");
            CheckEveryIndex(log, model);
        }
        finally
        {
            await log.DisposeAsync();
        }
    }

    private static void DoAppend(SegmentLog log, Model model, SegmentTestClock clock, Append append)
    {
        var random = new Random(append.Seed);
        if (append.NewTerm)
        {
            model.Term++;
        }

        for (var i = 0; i < append.Count; i++)
        {
            var index = model.Last + 1;
            if (i == 0 && append.Jump != 0 && model.IsEmpty)
            {
                index = Math.Max(1, model.Last + 1 + append.Jump);
            }

            var payload = append.Size switch
            {
                0 => random.Next(0, 200),
                1 => random.Next(200, 1500),
                2 => random.Next(3000, 6000),
                _ => 0,
            };
            var first = clock.GetUtcNow().ToUnixTimeMilliseconds() + random.Next(-5000, 5000);
            var batch = SegmentTestBatches.Create(index, model.Term, payload, first, first + random.Next(0, 3000), append.Seed + i);
            var result = log.Append(batch);
            Assert.Equal(index, result.Index);
            Assert.Equal(batch.Length, result.SizeBytes);
            model.Append(index, batch);
        }
    }

    private static void DoDeleteBefore(SegmentLog log, Model model, long index)
    {
        var firstBefore = log.FirstIndex;
        var segmentsBefore = log.Segments.Count;
        var deleted = log.DeleteBefore(index);
        var first = log.FirstIndex;
        var segments = log.Segments;
        Assert.Equal(segmentsBefore - deleted, segments.Count);
        Assert.True(first >= firstBefore, $"DeleteBefore({index}) moved FirstIndex back from {firstBefore} to {first}.");
        Assert.True(first <= Math.Max(index, firstBefore), $"DeleteBefore({index}) deleted batches at or after {index}: FirstIndex is {first}.");
        if (segments.Count > 1)
        {
            Assert.True(segments[0].LastIndex >= index, $"DeleteBefore({index}) left segment {segments[0]} whose batches are all below {index}.");
        }

        model.DropBefore(first);
    }

    private static void DoRead(SegmentLog log, Model model, Read read)
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (read.Edge < 0 && model.First > 1)
        {
            var compacted = Assert.Throws<LogCompactedException>(() => log.Read(model.First - 1, read.MaxBytes, buffer));
            Assert.Equal(model.First, compacted.FirstIndex);
            return;
        }

        if (read.Edge > 0)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => log.Read(model.Last + 2, read.MaxBytes, buffer));
            return;
        }

        var from = model.First + ((model.Last + 1 - model.First) * read.Permille / 1000);
        var result = log.Read(from, read.MaxBytes, buffer);
        var (expected, count) = model.Expected(from, read.MaxBytes);
        Assert.Equal(count, result.BatchCount);
        Assert.Equal(expected.Length, result.Bytes);
        Assert.Equal(from + count, result.NextIndex);
        Assert.True(expected.AsSpan().SequenceEqual(buffer.WrittenSpan), $"Read({from}, {read.MaxBytes}) returned other bytes than the model's batches.");
    }

    private static void DoFind(SegmentLog log, Model model, SegmentTestClock clock, Find find)
    {
        long timestamp;
        if (model.IsEmpty)
        {
            timestamp = clock.GetUtcNow().ToUnixTimeMilliseconds() + find.Delta;
        }
        else
        {
            var at = (int)((model.Batches.Count - 1) * (long)find.Permille / 1000);
            timestamp = MaxTimestamp(model.Batches[at]) + find.Delta;
        }

        Assert.Equal(model.FindByTimestamp(timestamp), log.FindIndexByTimestamp(timestamp));
    }

    private static void DoRetention(SegmentLog log, Model model, SegmentTestClock clock, SegmentLogOptions options)
    {
        var cutoff = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.Retention.TotalMilliseconds;
        log.ApplyRetention();
        var first = log.FirstIndex;
        for (var index = model.First; index < first && index <= model.Last; index++)
        {
            var maxTimestamp = MaxTimestamp(model.Batches[(int)(index - model.First)]);
            Assert.True(maxTimestamp < cutoff, $"Retention deleted batch {index} with timestamp {maxTimestamp}, not older than the cutoff {cutoff}.");
        }

        model.DropBefore(first);
    }

    private static void CheckWatermarks(SegmentLog log, Model model, string when)
    {
        Assert.True(model.First == log.FirstIndex, $"{when}: FirstIndex is {log.FirstIndex}, the model says {model.First}.");
        Assert.True(model.Last == log.LastIndex, $"{when}: LastIndex is {log.LastIndex}, the model says {model.Last}.");
        Assert.True(model.LastTerm == log.LastTerm, $"{when}: LastTerm is {log.LastTerm}, the model says {model.LastTerm}.");
        Assert.Equal(log.LastIndex, log.DurableIndex);

        var segments = log.Segments;
        long bytes = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            bytes += segments[i].SizeBytes;
            if (i > 0)
            {
                Assert.True(segments[i].BaseIndex == segments[i - 1].LastIndex + 1, $"{when}: segment {segments[i]} does not follow {segments[i - 1]}.");
            }

            if (i < segments.Count - 1)
            {
                Assert.True(segments[i].LastIndex >= segments[i].BaseIndex, $"{when}: closed segment {segments[i]} is empty.");
            }
        }

        if (segments.Count > 0)
        {
            Assert.True(segments[^1].LastIndex == model.Last, $"{when}: the active segment ends at {segments[^1].LastIndex}.");
        }

        Assert.True(model.Bytes == bytes, $"{when}: the segments hold {bytes} bytes, the model's batches {model.Bytes}.");
    }

    private static void CheckEveryIndex(SegmentLog log, Model model)
    {
        var buffer = new ArrayBufferWriter<byte>();
        for (var index = model.First; index <= model.Last; index++)
        {
            buffer.Clear();
            var result = log.Read(index, 0, buffer);
            Assert.Equal(1, result.BatchCount);
            Assert.True(model.Batches[(int)(index - model.First)].AsSpan().SequenceEqual(buffer.WrittenSpan), $"Batch {index} differs from the model's.");
        }

        buffer.Clear();
        var all = log.Read(model.First, long.MaxValue, buffer);
        Assert.Equal(model.Batches.Count, all.BatchCount);
        Assert.True(model.Batches.SelectMany(b => b).SequenceEqual(buffer.WrittenSpan.ToArray()), "Reading the whole log differs from the model.");
    }

    private static long MaxTimestamp(byte[] batch) => BinaryPrimitives.ReadInt64LittleEndian(batch.AsSpan(40));

    public abstract record Op;

    public sealed record Append(int Count, int Size, int Seed, bool NewTerm, int Jump) : Op;

    public sealed record Truncate(int Permille) : Op;

    public sealed record DeleteBefore(int Permille) : Op;

    public sealed record Reopen : Op;

    public sealed record Read(int Permille, int MaxBytes, int Edge) : Op;

    public sealed record Find(int Permille, int Delta) : Op;

    public sealed record AdvanceClock(int Minutes) : Op;

    public sealed record Retention : Op;

    /// <summary>The log as a list: batches First..Last, in order.</summary>
    private sealed class Model
    {
        public List<byte[]> Batches { get; } = [];

        public long First { get; private set; } = 1;

        public long Last { get; private set; }

        public long Term { get; set; } = 1;

        public bool IsEmpty => Batches.Count == 0;

        public long LastTerm => IsEmpty ? 0 : BatchHeader.Read(Batches[^1]).Term;

        public long Bytes => Batches.Sum(b => (long)b.Length);

        public void Append(long index, byte[] batch)
        {
            if (IsEmpty)
            {
                First = index;
            }

            Batches.Add(batch);
            Last = index;
        }

        public void TruncateAfter(long index)
        {
            Batches.RemoveRange((int)(index + 1 - First), (int)(Last - index));
            Last = index;
        }

        public void DropBefore(long index)
        {
            var drop = (int)Math.Min(Batches.Count, index - First);
            Batches.RemoveRange(0, drop);
            First = IsEmpty ? Last + 1 : First + drop;
        }

        public (byte[] Bytes, int Count) Expected(long from, long maxBytes)
        {
            var output = new List<byte>();
            var count = 0;
            for (var index = from; index <= Last; index++)
            {
                var batch = Batches[(int)(index - First)];
                if (count > 0 && output.Count + batch.Length > maxBytes)
                {
                    break;
                }

                output.AddRange(batch);
                count++;
                if (output.Count >= maxBytes)
                {
                    break;
                }
            }

            return ([.. output], count);
        }

        public long? FindByTimestamp(long timestamp)
        {
            for (var i = 0; i < Batches.Count; i++)
            {
                if (MaxTimestamp(Batches[i]) >= timestamp)
                {
                    return First + i;
                }
            }

            return null;
        }
    }
}
