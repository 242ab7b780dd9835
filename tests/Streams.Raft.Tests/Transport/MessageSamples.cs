using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;

namespace Streams.Raft.Tests.Transport;

/// <summary>Generators of arbitrary Raft messages, and a canonical text form to compare them by content.</summary>
internal static class MessageSamples
{
    public static readonly Gen<long> Ids = Gen.Choose(1, 9).Select(i => (long)i);

    public static readonly Gen<long> Numbers = Gen.Frequency(
        (6, Gen.Choose(0, 1000).Select(i => (long)i)),
        (1, Gen.Elements(0L, 1L, int.MaxValue + 1L, long.MaxValue)));

    public static readonly Gen<byte[]> Bytes = Gen.Frequency(
        (1, Gen.Constant(Array.Empty<byte>())),
        (3, Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n))));

    public static readonly Gen<Entry> Entries =
        from term in Gen.Choose(1, 1000)
        from index in Gen.Choose(1, 100_000)
        from type in Gen.Elements(EntryType.Normal, EntryType.Config)
        from data in Bytes
        select new Entry(term, index, data, type);

    public static readonly Gen<ConfState> ConfStates =
        from members in Gen.ArrayOf(Gen.Choose(1, 9).Select(i => (long)i))
        from split in Gen.Choose(0, 9)
        let distinct = members.Distinct().ToArray()
        select new ConfState(distinct.Take(Math.Min(split, distinct.Length)), distinct.Skip(Math.Min(split, distinct.Length)));

    public static readonly Gen<SnapshotChunk> Chunks =
        from index in Numbers
        from term in Numbers
        from conf in ConfStates
        from total in Numbers
        from offset in Numbers
        from data in Bytes
        select new SnapshotChunk(new SnapshotMetadata(index, term, conf), total, offset, data);

    public static readonly Gen<Message> Messages =
        from type in Gen.Elements(Enum.GetValues<MessageType>())
        from sender in Ids
        from receiver in Ids
        from term in Numbers
        from logTerm in Numbers
        from index in Numbers
        from commit in Numbers
        from entries in Gen.Frequency((3, Gen.Constant(Array.Empty<Entry>())), (1, Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Entries, n))))
        from reject in Gen.Elements(false, true)
        from transfer in Gen.Elements(false, true)
        from rejectHint in Numbers
        from context in Bytes
        from chunk in Gen.Frequency((3, Gen.Constant<SnapshotChunk?>(null)), (1, Chunks.Select(c => (SnapshotChunk?)c)))
        from chunkOffset in Numbers
        select new Message
        {
            Type = type,
            From = sender,
            To = receiver,
            Term = term,
            LogTerm = logTerm,
            Index = index,
            Commit = commit,
            Entries = entries,
            Reject = reject,
            Transfer = transfer,
            RejectHint = rejectHint,
            Context = context,
            Chunk = chunk,
            ChunkOffset = chunkOffset,
        };

    /// <summary>Every field, entries and bytes included: equal texts mean equal messages.</summary>
    public static string Describe(Message m)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{m.Type} {m.From}->{m.To} t{m.Term} lt{m.LogTerm} i{m.Index} c{m.Commit} r{m.Reject} rh{m.RejectHint} tr{m.Transfer} co{m.ChunkOffset} ctx[{Convert.ToHexString(m.Context.Span)}]");
        foreach (var e in m.Entries)
        {
            text.Append(CultureInfo.InvariantCulture, $" e{e.Index}@{e.Term}/{e.Type}[{Convert.ToHexString(e.Data.Span)}]");
        }

        if (m.Chunk is { } c)
        {
            text.Append(CultureInfo.InvariantCulture, $" chunk {c.Metadata.Index}@{c.Metadata.Term} {c.Metadata.ConfState} {c.TotalBytes} {c.Offset} [{Convert.ToHexString(c.Data.Span)}]");
        }

        return text.ToString();
    }
}
