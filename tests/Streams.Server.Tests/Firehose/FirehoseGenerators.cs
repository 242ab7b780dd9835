using FsCheck;
using FsCheck.Fluent;
using Streams.Server.Firehose.Output;
using Streams.Server.Routing;

namespace Streams.Server.Tests.Firehose;

/// <summary>Generators for records, delimiters and key parts, with the awkward cases weighted in.</summary>
internal static class FirehoseGenerators
{
    private static readonly DateTimeOffset _earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Bytes that make delimiters and data collide: newlines, a few letters, NUL.
    private static readonly Gen<byte> _collidingBytes = Gen.Elements((byte)'\n', (byte)'\r', (byte)'a', (byte)'b', (byte)0);

    private static readonly Gen<byte> _anyBytes = Gen.Choose(0, 255).Select(b => (byte)b);

    public static Gen<byte[]> Data => Gen.Frequency(
        (1, Gen.Constant(Array.Empty<byte>())),
        (5, Gen.Choose(1, 64).SelectMany(n => Gen.ArrayOf(_anyBytes, n))),
        (3, Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(_collidingBytes, n))),
        (1, Gen.Choose(1, 5000).SelectMany(n => Gen.ArrayOf(_anyBytes, n))));

    public static Gen<byte[]> Delimiters => Gen.Frequency(
        (3, Gen.Elements("\n", "\r\n", "\n\n", "|", "", "ab", "aba", "\0").Select(text => System.Text.Encoding.UTF8.GetBytes(text))),
        (2, Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(_collidingBytes, n))),
        (1, Gen.Choose(1, 16).SelectMany(n => Gen.ArrayOf(_anyBytes, n))));

    public static Gen<string> PartitionKeys => Gen.Choose(1, 24)
        .SelectMany(n => Gen.ArrayOf(Gen.Elements("a", "Z", "0", "-", "\"", "\\", "/", "é", "日", "😀", "\n", "\u0001", " ", "<", "+"), n))
        .Select(parts => string.Concat(parts));

    public static Gen<DateTimeOffset> Arrivals =>
        from ticks in Gen.Choose(0, int.MaxValue).Select(t => (long)t * 14_000)
        from offsetMinutes in Gen.Elements(0, 0, 60, -300, 330, 840)
        select new DateTimeOffset(_earliest.UtcTicks + ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));

    /// <summary>0 to 30 records of one shard, sequence numbers increasing.</summary>
    public static Gen<TestRecord[]> Records =>
        from count in Gen.Choose(0, 30)
        from start in Gen.Choose(1, 1_000_000)
        from keys in Gen.ArrayOf(PartitionKeys, count)
        from arrivals in Gen.ArrayOf(Arrivals, count)
        from data in Gen.ArrayOf(Data, count)
        select Enumerable.Range(0, count)
            .Select(i => new TestRecord(new SequenceNumber(start + (i / 3), i % 3).ToString(), keys[i], arrivals[i], data[i]))
            .ToArray();

    public static Gen<ObjectFormat> Formats =>
        from records in Gen.Elements(RecordFormat.Raw, RecordFormat.JsonLines)
        from delimiter in Delimiters
        from compression in Gen.Elements(ObjectCompression.None, ObjectCompression.Gzip)
        select new ObjectFormat(records, delimiter, compression);

    /// <summary>Delivery stream names: 1-64 of [a-zA-Z0-9_.-], dashes weighted in.</summary>
    public static Gen<string> DeliveryNames => Gen.Choose(1, 64)
        .SelectMany(n => Gen.ArrayOf(Gen.Frequency((4, Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.".ToCharArray())), (1, Gen.Constant('-'))), n))
        .Select(chars => new string(chars));

    /// <summary>Prefixes: empty, with or without the trailing "/", a few folders deep.</summary>
    public static Gen<string> Prefixes =>
        from depth in Gen.Choose(0, 3)
        from folders in Gen.ArrayOf(Gen.Elements("logs", "firehose", "a-b", "2026", "x.y", "errors"), depth)
        from slash in Gen.Elements(true, false)
        select folders.Length == 0 ? string.Empty : string.Join('/', folders) + (slash ? "/" : string.Empty);

    public static Gen<string> ShardIdGen => Gen.Frequency(
        (4, Gen.Choose(0, 1000)),
        (1, Gen.Elements(0, int.MaxValue))).Select(ShardIds.Format);

    public static Gen<(string First, string Last)> SequenceRanges =>
        from a in Gen.Choose(0, int.MaxValue)
        from pa in Gen.Choose(0, SequenceNumber.MaxPosition)
        from span in Gen.Choose(0, 1000)
        from pb in Gen.Choose(0, SequenceNumber.MaxPosition)
        let first = new SequenceNumber(a, pa)
        let last = span == 0 ? first : new SequenceNumber((long)a + span, pb)
        select (first.ToString(), last.ToString());
}
