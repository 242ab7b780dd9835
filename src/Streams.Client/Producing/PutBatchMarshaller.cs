using System.Buffers;
using Streams.Rpc;

namespace Streams.Client.Producing;

/// <summary>
/// Writes a <see cref="ProducerBatch"/> as a PutRecordsRequest: the stream, producer id and sequence
/// as of this attempt, then the entries encoded when the records were taken. The client only writes these.
/// </summary>
internal sealed class PutBatchMarshaller : Marshaller<ProducerBatch>
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
        RecordEncoding.WriteHeader(destination, message.StreamNameUtf8, message.ProducerId, ProducerSequenceOf(message));
        message.Payload.CopyTo(destination[header..]);
        return true;
    }

    /// <inheritdoc />
    public override ProducerBatch Read(in ReadOnlySequence<byte> input) => throw new NotSupportedException("The producer only writes PutRecords requests.");

    private static int HeaderLength(ProducerBatch batch) => RecordEncoding.HeaderLength(batch.StreamNameUtf8, batch.ProducerId, ProducerSequenceOf(batch));

    // Without a producer id the server wants no sequence.
    private static long ProducerSequenceOf(ProducerBatch batch) => batch.ProducerId == 0 ? 0 : batch.Sequence;
}
