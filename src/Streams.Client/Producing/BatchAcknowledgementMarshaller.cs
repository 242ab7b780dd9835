using System.Buffers;
using Streams.Rpc;

namespace Streams.Client.Producing;

/// <summary>Reads a PutRecordsResponse or a ProduceResponse into a <see cref="BatchAcknowledgement"/>; the client only reads these.</summary>
/// <param name="produce">Read ProduceResponse's field numbers rather than PutRecordsResponse's.</param>
internal sealed class BatchAcknowledgementMarshaller(bool produce) : Marshaller<BatchAcknowledgement>
{
    /// <inheritdoc />
    public override int Measure(BatchAcknowledgement message) => throw new NotSupportedException("The producer only reads PutRecords responses.");

    /// <inheritdoc />
    public override void Write(BatchAcknowledgement message, IBufferWriter<byte> output) => throw new NotSupportedException("The producer only reads PutRecords responses.");

    /// <inheritdoc />
    public override BatchAcknowledgement Read(in ReadOnlySequence<byte> input)
    {
        if (input.IsSingleSegment)
        {
            return Parse(input.FirstSpan, produce);
        }

        var length = checked((int)input.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            input.CopyTo(rented);
            return Parse(rented.AsSpan(0, length), produce);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads a PutRecordsResponse, or with <paramref name="produce"/> a ProduceResponse, from <paramref name="message"/>.</summary>
    public static BatchAcknowledgement Parse(ReadOnlySpan<byte> message, bool produce = false)
    {
        // PutRecordsResponse: failed_record_count = 1, records = 2.
        // ProduceResponse: batch_id = 1, failed_record_count = 2, records = 3, error_code = 4, error_message = 5.
        var failedField = produce ? 2 : 1;
        var recordsField = produce ? 3 : 2;
        var reader = new WireReader(message);
        var records = new List<AcknowledgedRecord>();
        var failed = 0;
        ulong batchId = 0;
        string errorCode = string.Empty, errorMessage = string.Empty;
        var lastShard = string.Empty;
        var lastShardBytes = ReadOnlySpan<byte>.Empty;
        while (!reader.AtEnd)
        {
            var (field, wireType) = reader.ReadTag();
            if (field == failedField && wireType == 0)
            {
                failed = (int)reader.ReadVarint();
            }
            else if (field == recordsField && wireType == 2)
            {
                records.Add(ParseEntry(reader.ReadBytes(), ref lastShard, ref lastShardBytes));
            }
            else if (produce && field == 1 && wireType == 0)
            {
                batchId = reader.ReadVarint();
            }
            else if (produce && field == 4 && wireType == 2)
            {
                errorCode = reader.ReadString();
            }
            else if (produce && field == 5 && wireType == 2)
            {
                errorMessage = reader.ReadString();
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return new BatchAcknowledgement(records, failed, batchId, errorCode, errorMessage);
    }

    // A batch's records usually share one shard: its id is made into a string once.
    private static AcknowledgedRecord ParseEntry(ReadOnlySpan<byte> entry, ref string lastShard, ref ReadOnlySpan<byte> lastShardBytes)
    {
        var reader = new WireReader(entry);
        string sequence = string.Empty, shard = string.Empty, code = string.Empty, message = string.Empty;
        while (!reader.AtEnd)
        {
            var (field, wireType) = reader.ReadTag();
            if (wireType != 2)
            {
                reader.Skip(wireType);
                continue;
            }

            switch (field)
            {
                case 1:
                    sequence = reader.ReadString();
                    break;
                case 2:
                    var bytes = reader.ReadBytes();
                    if (!bytes.SequenceEqual(lastShardBytes) || lastShard.Length == 0)
                    {
                        lastShard = System.Text.Encoding.UTF8.GetString(bytes);
                        lastShardBytes = bytes;
                    }

                    shard = lastShard;
                    break;
                case 3:
                    code = reader.ReadString();
                    break;
                case 4:
                    message = reader.ReadString();
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new AcknowledgedRecord(sequence, shard, code, message);
    }
}
