using System.Buffers;

namespace Streams.Rpc;

/// <summary>Turns messages of type <typeparamref name="T"/> into bytes and back.</summary>
public abstract class Marshaller<T>
{
    /// <summary>The serialized size of <paramref name="message"/> in bytes.</summary>
    public abstract int Measure(T message);

    /// <summary>Writes <paramref name="message"/>, exactly <see cref="Measure"/> bytes, to <paramref name="output"/>.</summary>
    public abstract void Write(T message, IBufferWriter<byte> output);

    /// <summary>
    /// Writes <paramref name="message"/> into <paramref name="destination"/>, which is exactly
    /// <see cref="Measure"/> bytes long; false when this marshaller cannot write to a span, and
    /// <see cref="Write(T, IBufferWriter{byte})"/> is used instead. Writing header and message
    /// into one span saves a round of GetSpan/Advance on the transport per message.
    /// </summary>
    public virtual bool TryWrite(T message, Span<byte> destination) => false;

    /// <summary>Reads a message from <paramref name="input"/>, which holds exactly one message.</summary>
    public abstract T Read(in ReadOnlySequence<byte> input);
}
