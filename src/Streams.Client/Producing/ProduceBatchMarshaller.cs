namespace Streams.Client.Producing;

/// <summary>
/// Writes a <see cref="ProducerBatch"/> as a ProduceRequest: its attempt id as batch_id, the stream,
/// producer id and sequence, then its entries, each retagged from PutRecordsRequest's records field
/// to ProduceRequest's.
/// </summary>
internal sealed class ProduceBatchMarshaller : ProducerBatchMarshaller
{
    /// <inheritdoc />
    public override bool TryWrite(ProducerBatch message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var header = HeaderLength(message);
        RecordEncoding.WriteProduceHeader(destination, message.AttemptId, message.StreamNameUtf8, message.ProducerId, SequenceOf(message));
        var entries = destination[header..];
        message.Payload.CopyTo(entries);
        for (var i = 0; i < message.RecordCount; i++)
        {
            entries[message.Record(i).Offset] = RecordEncoding.ProduceRecordsTag;
        }

        return true;
    }

    /// <inheritdoc />
    protected override int HeaderLength(ProducerBatch batch) => RecordEncoding.ProduceHeaderLength(batch.AttemptId, batch.StreamNameUtf8, batch.ProducerId, SequenceOf(batch));
}
