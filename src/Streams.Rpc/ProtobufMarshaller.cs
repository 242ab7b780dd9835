using System.Buffers;
using Google.Protobuf;

namespace Streams.Rpc;

/// <summary>Marshals protobuf messages without intermediate copies.</summary>
public sealed class ProtobufMarshaller<T> : Marshaller<T>
    where T : IMessage<T>
{
    private readonly MessageParser<T> _parser;

    /// <summary>Creates a marshaller that parses with <paramref name="parser"/>.</summary>
    public ProtobufMarshaller(MessageParser<T> parser) => _parser = parser;

    /// <inheritdoc />
    public override int Measure(T message) => message.CalculateSize();

    /// <inheritdoc />
    public override void Write(T message, IBufferWriter<byte> output) => message.WriteTo(output);

    /// <inheritdoc />
    public override bool TryWrite(T message, Span<byte> destination)
    {
        message.WriteTo(destination);
        return true;
    }

    /// <inheritdoc />
    public override T Read(in ReadOnlySequence<byte> input)
    {
        try
        {
            return _parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new RpcStatus(StatusCode.Internal, $"The message is not a valid {typeof(T).Name}: {ex.Message}"), innerException: ex);
        }
    }
}
