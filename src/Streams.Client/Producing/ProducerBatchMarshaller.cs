using System.Buffers;
using Streams.Rpc;

namespace Streams.Client.Producing;

/// <summary>
/// What the two request encodings of a <see cref="ProducerBatch"/> share: a header of their own,
/// then the entries encoded when the records were taken. The client only writes these.
/// </summary>
internal abstract class ProducerBatchMarshaller : Marshaller<ProducerBatch>
{
    /// <inheritdoc />
    public sealed override int Measure(ProducerBatch message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return HeaderLength(message) + message.PayloadLength;
    }

    /// <inheritdoc />
    public sealed override void Write(ProducerBatch message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var length = Measure(message);
        TryWrite(message, output.GetSpan(length)[..length]);
        output.Advance(length);
    }

    /// <inheritdoc />
    public sealed override ProducerBatch Read(in ReadOnlySequence<byte> input) => throw new NotSupportedException("The producer only writes its requests.");

    /// <summary>The header's length: the fields before the entries.</summary>
    protected abstract int HeaderLength(ProducerBatch batch);

    // Without a producer id the server wants no sequence.
    protected static long SequenceOf(ProducerBatch batch) => batch.ProducerId == 0 ? 0 : batch.Sequence;
}
