using System.Buffers;
using Streams.Rpc;

namespace Streams.Client.Producing;

/// <summary>
/// Writes a <see cref="ProducerBatch"/> as a ProduceRequest: its attempt id as batch_id, the stream,
/// producer id and sequence, then its entries, each retagged from PutRecordsRequest's records field
/// to ProduceRequest's. The client only writes these.
/// </summary>
internal sealed class ProduceBatchMarshaller : Marshaller<ProducerBatch>
{
    /// <inheritdoc />
    public override int Measure(ProducerBatch message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return HeaderLength(message) + message.PayloadLength;
    }

    /// <inheritdoc />
    public override void Write(ProducerBatch message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var length = Measure(message);
        TryWrite(message, output.GetSpan(length)[..length]);
        output.Advance(length);
    }

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
    public override ProducerBatch Read(in ReadOnlySequence<byte> input) => throw new NotSupportedException("The producer only writes Produce requests.");

    private static int HeaderLength(ProducerBatch batch) => RecordEncoding.ProduceHeaderLength(batch.AttemptId, batch.StreamNameUtf8, batch.ProducerId, SequenceOf(batch));

    private static long SequenceOf(ProducerBatch batch) => batch.ProducerId == 0 ? 0 : batch.Sequence;
}
