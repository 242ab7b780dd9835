using System.Numerics;
using System.Text;

namespace Streams.Client.Producing;

/// <summary>
/// Writes a PutRecordsRequest in protobuf wire format by hand: each record is encoded once, when it is
/// taken, as a <c>records</c> entry straight into its batch's buffer, and the request's other fields
/// (stream, producer id and sequence, which change when a batch is retried under a new producer id)
/// are written before the entries when the batch is sent. Protobuf allows fields in any order, and
/// the server parses this as any PutRecordsRequest. No message object per record.
/// </summary>
internal static class RecordEncoding
{
    /// <summary>The tag of a <c>records</c> entry in a ProduceRequest (field 3); entries are encoded for PutRecordsRequest (field 2) and retagged.</summary>
    public const byte ProduceRecordsTag = (3 << 3) | 2;

    // Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
    private const byte StreamNameTag = (1 << 3) | 2;
    private const byte RecordsTag = (2 << 3) | 2;
    private const byte BatchIdTag = 1 << 3;
    private const byte ProduceStreamNameTag = (2 << 3) | 2;
    private const byte ProduceProducerIdTag = 4 << 3;
    private const byte ProduceSequenceTag = 5 << 3;
    private const byte ProducerIdTag = 3 << 3;
    private const byte ProducerSequenceTag = 4 << 3;
    private const byte DataTag = (1 << 3) | 2;
    private const byte PartitionKeyTag = (2 << 3) | 2;
    private const byte ExplicitHashKeyTag = (3 << 3) | 2;

    /// <summary>The bytes of a varint.</summary>
    public static int VarintLength(ulong value) => value < 0x80 ? 1 : (BitOperations.Log2(value) / 7) + 1;

    /// <summary>Writes a varint; returns its length.</summary>
    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// The length of a <c>records</c> entry, tag and length prefix included, for data, a partition key
    /// and an explicit hash key (zero when there is none) of these lengths in bytes.
    /// </summary>
    public static int EntryLength(int dataLength, int partitionKeyLength, int hashKeyLength)
    {
        var body = BodyLength(dataLength, partitionKeyLength, hashKeyLength);
        return 1 + VarintLength((uint)body) + body;
    }

    /// <summary>Writes a <c>records</c> entry of exactly <see cref="EntryLength"/> bytes.</summary>
    public static void WriteEntry(Span<byte> destination, ReadOnlySpan<byte> data, ReadOnlySpan<byte> partitionKeyUtf8, string? explicitHashKey)
    {
        var hashKeyLength = explicitHashKey?.Length ?? 0;
        var body = BodyLength(data.Length, partitionKeyUtf8.Length, hashKeyLength);
        destination[0] = RecordsTag;
        var at = 1 + WriteVarint(destination[1..], (uint)body);

        // Proto3 leaves empty fields out; the parser reads them as empty.
        if (!data.IsEmpty)
        {
            at += WriteBytesField(destination[at..], DataTag, data);
        }

        at += WriteBytesField(destination[at..], PartitionKeyTag, partitionKeyUtf8);
        if (hashKeyLength > 0)
        {
            destination[at++] = ExplicitHashKeyTag;
            at += WriteVarint(destination[at..], (uint)hashKeyLength);

            // Checked to be decimal digits: ASCII, one byte per character.
            at += Encoding.ASCII.GetBytes(explicitHashKey, destination[at..]);
        }
    }

    /// <summary>The length of the fields before the entries: stream name, producer id and sequence.</summary>
    public static int HeaderLength(ReadOnlySpan<byte> streamNameUtf8, ulong producerId, long sequence)
    {
        var length = 1 + VarintLength((uint)streamNameUtf8.Length) + streamNameUtf8.Length;
        if (producerId != 0)
        {
            length += 1 + VarintLength(producerId);
            if (sequence != 0)
            {
                length += 1 + VarintLength((ulong)sequence);
            }
        }

        return length;
    }

    /// <summary>The length of a ProduceRequest's fields other than its entries.</summary>
    public static int ProduceHeaderLength(ulong batchId, ReadOnlySpan<byte> streamNameUtf8, ulong producerId, long sequence)
    {
        // Field numbers 1 to 5 all have one-byte tags, so the lengths match PutRecordsRequest's plus the batch id.
        var length = HeaderLength(streamNameUtf8, producerId, sequence);
        return batchId == 0 ? length : length + 1 + VarintLength(batchId);
    }

    /// <summary>Writes a ProduceRequest's fields other than its entries, exactly <see cref="ProduceHeaderLength"/> bytes.</summary>
    public static void WriteProduceHeader(Span<byte> destination, ulong batchId, ReadOnlySpan<byte> streamNameUtf8, ulong producerId, long sequence)
    {
        var at = 0;
        if (batchId != 0)
        {
            destination[at++] = BatchIdTag;
            at += WriteVarint(destination[at..], batchId);
        }

        at += WriteBytesField(destination[at..], ProduceStreamNameTag, streamNameUtf8);
        if (producerId != 0)
        {
            destination[at++] = ProduceProducerIdTag;
            at += WriteVarint(destination[at..], producerId);
            if (sequence != 0)
            {
                destination[at++] = ProduceSequenceTag;
                WriteVarint(destination[at..], (ulong)sequence);
            }
        }
    }

    /// <summary>Writes the fields before the entries, exactly <see cref="HeaderLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, ReadOnlySpan<byte> streamNameUtf8, ulong producerId, long sequence)
    {
        var at = WriteBytesField(destination, StreamNameTag, streamNameUtf8);
        if (producerId != 0)
        {
            destination[at++] = ProducerIdTag;
            at += WriteVarint(destination[at..], producerId);
            if (sequence != 0)
            {
                destination[at++] = ProducerSequenceTag;
                WriteVarint(destination[at..], (ulong)sequence);
            }
        }
    }

    private static int BodyLength(int dataLength, int partitionKeyLength, int hashKeyLength)
    {
        var length = 1 + VarintLength((uint)partitionKeyLength) + partitionKeyLength;
        if (dataLength > 0)
        {
            length += 1 + VarintLength((uint)dataLength) + dataLength;
        }

        if (hashKeyLength > 0)
        {
            length += 1 + VarintLength((uint)hashKeyLength) + hashKeyLength;
        }

        return length;
    }

    private static int WriteBytesField(Span<byte> destination, byte tag, ReadOnlySpan<byte> value)
    {
        destination[0] = tag;
        var at = 1 + WriteVarint(destination[1..], (uint)value.Length);
        value.CopyTo(destination[at..]);
        return at + value.Length;
    }
}
