using System.Globalization;
using Streams.Raft.Storage;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>
/// How a Raft entry is a batch of the segment log, both ways (FORMAT.md, "Entries"): a normal
/// entry with data is the batch itself, with the entry's term and index in its header; a
/// leader's no-op and a configuration entry are control batches whose payload starts with a kind
/// reserved for the log (<see cref="ShardLogControlKinds"/>).
/// </summary>
internal static class RaftEntryBatches
{
    /// <summary>Bytes a log control batch adds to the entry's data: the header and the kind.</summary>
    public const int ControlOverhead = BatchHeader.Size + 1;

    /// <summary>
    /// What keeps <paramref name="entry"/> from being stored, or null when it can be: a normal
    /// entry's data must be a whole valid batch, and an application's control batch must not use
    /// a kind reserved for the log (reading it back would turn it into another entry).
    /// </summary>
    /// <param name="entry">The entry to store.</param>
    /// <param name="reader">Decompresses an LZ4 control batch to read its kind.</param>
    public static string? Check(Entry entry, BatchReader reader)
    {
        if (entry.Type == EntryType.Config)
        {
            return entry.Data.Length > BatchHeader.MaxLength - ControlOverhead
                ? Invariant($"its {entry.Data.Length} bytes of configuration do not fit in a batch of at most {BatchHeader.MaxLength} bytes")
                : null;
        }

        if (entry.Type != EntryType.Normal)
        {
            return Invariant($"its type {entry.Type} is not one the shard log stores (Normal or Config)");
        }

        if (entry.Data.IsEmpty)
        {
            return null;
        }

        var batch = entry.Data.Span;
        var problem = BatchHeader.Validate(batch);
        if (problem is not null)
        {
            return "its data is not a valid batch (build it with BatchBuilder): " + problem;
        }

        var header = BatchHeader.Read(batch);
        if ((header.Attributes & BatchAttributes.Control) == 0)
        {
            return null;
        }

        byte kind;
        if (header.Codec == BatchCodec.None)
        {
            if (batch.Length == BatchHeader.Size)
            {
                return "it is a control batch with an empty payload: start the payload with a kind of 16 or more";
            }

            kind = batch[BatchHeader.Size];
        }
        else
        {
            try
            {
                var payload = reader.Open(batch).ControlPayload;
                if (payload.IsEmpty)
                {
                    return "it is a control batch with an empty payload: start the payload with a kind of 16 or more";
                }

                kind = payload[0];
            }
            catch (InvalidDataException e)
            {
                return "its control payload does not decompress: " + e.Message;
            }
        }

        return ShardLogControlKinds.IsReserved(kind)
            ? Invariant($"it is a control batch of kind {kind}, a kind reserved for the log itself: an application's control batch starts its payload with a kind of {ShardLogControlKinds.FirstApplicationKind} or more")
            : null;
    }

    /// <summary>Whether the batch's header already carries <paramref name="term"/> and <paramref name="index"/>.</summary>
    public static bool HasPosition(ReadOnlySpan<byte> batch, long term, long index)
    {
        var header = BatchHeader.Read(batch);
        return header.Term == term && header.Index == index;
    }

    /// <summary>Writes <paramref name="term"/> and <paramref name="index"/> into a whole batch's header and seals it with a new CRC.</summary>
    public static void SetPosition(Span<byte> batch, long term, long index)
    {
        (BatchHeader.Read(batch) with { Term = term, Index = index }).Write(batch);
        BatchHeader.WriteCrc(batch);
    }

    /// <summary>
    /// The control batch of a no-op or configuration entry, built in <paramref name="builder"/>'s
    /// buffer (valid until its next Reset). Never compressed, so the kind is readable in place.
    /// </summary>
    public static ReadOnlyMemory<byte> BuildControl(BatchBuilder builder, Entry entry)
    {
        builder.Reset(entry.Term, entry.Index, BatchCodec.None, attributes: BatchAttributes.Control);
        if (entry.Type == EntryType.Config)
        {
            builder.AddControlPayload([ShardLogControlKinds.Config]);
            builder.AddControlPayload(entry.Data.Span);
        }
        else
        {
            builder.AddControlPayload([ShardLogControlKinds.NoOp]);
        }

        return builder.Build();
    }

    /// <summary>
    /// The entry a stored batch is (one that passed its CRC check). A normal entry's data is the
    /// batch itself, not copied.
    /// </summary>
    /// <exception cref="StorageCorruptionException">A log control batch of a kind this version does not know.</exception>
    public static Entry ToEntry(ReadOnlyMemory<byte> batch)
    {
        var span = batch.Span;
        var header = BatchHeader.Read(span);
        if (!IsLogControl(header, span))
        {
            return new Entry(header.Term, header.Index, batch);
        }

        var kind = span[BatchHeader.Size];
        return kind switch
        {
            ShardLogControlKinds.NoOp when span.Length == ControlOverhead => new Entry(header.Term, header.Index, ReadOnlyMemory<byte>.Empty),
            ShardLogControlKinds.Config => new Entry(header.Term, header.Index, batch[ControlOverhead..], EntryType.Config),
            _ => throw new StorageCorruptionException(Invariant(
                $"The batch at index {header.Index} is a log control batch of kind {kind} with {span.Length - ControlOverhead} payload bytes, which this version does not know.")),
        };
    }

    /// <summary>
    /// Whether a batch is one of the log's own control batches: uncompressed, marked control, and
    /// its payload starts with a reserved kind (an application's never does: SaveAsync refuses it).
    /// </summary>
    public static bool IsLogControl(in BatchHeader header, ReadOnlySpan<byte> batch) =>
        (header.Attributes & BatchAttributes.Control) != 0
        && header.Codec == BatchCodec.None
        && batch.Length > BatchHeader.Size
        && ShardLogControlKinds.IsReserved(batch[BatchHeader.Size]);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
