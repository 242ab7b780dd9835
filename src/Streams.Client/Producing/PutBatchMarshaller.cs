namespace Streams.Client.Producing;

/// <summary>
/// Writes a <see cref="ProducerBatch"/> as a PutRecordsRequest: the stream, producer id and sequence
/// as of this attempt, then the entries encoded when the records were taken.
/// </summary>
internal sealed class PutBatchMarshaller : ProducerBatchMarshaller
{
    /// <inheritdoc />
    public override bool TryWrite(ProducerBatch message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var header = HeaderLength(message);
        RecordEncoding.WriteHeader(destination, message.StreamNameUtf8, message.ProducerId, SequenceOf(message));
        message.Payload.CopyTo(destination[header..]);
        return true;
    }

    /// <inheritdoc />
    protected override int HeaderLength(ProducerBatch batch) => RecordEncoding.HeaderLength(batch.StreamNameUtf8, batch.ProducerId, SequenceOf(batch));
}
