using System.Buffers;
using System.IO.Pipelines;

namespace Streams.Rpc.Framing;

/// <summary>
/// Reads length-prefixed messages from a pipe, one at a time, enforcing the size limit before a
/// message is buffered and decoding gzip when the call's encoding says so.
/// </summary>
internal sealed class MessageReader
{
    private readonly PipeReader _reader;
    private readonly int _maxLength;
    private readonly bool _gzip;

    public MessageReader(PipeReader reader, int maxLength, string? encoding)
    {
        _reader = reader;
        _maxLength = maxLength;
        _gzip = encoding == MessageCompression.Gzip;
    }

    /// <summary>Reads the next message; (false, default) at a clean end of the stream.</summary>
    public async ValueTask<(bool HasMessage, T Message)> ReadAsync<T>(Marshaller<T> marshaller, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (MessageFraming.TryReadHeader(buffer, out var compressed, out var length))
            {
                if (length > (uint)_maxLength)
                {
                    _reader.AdvanceTo(buffer.Start);
                    throw MessageFraming.TooLarge("receive", length, _maxLength);
                }

                var frameLength = MessageFraming.HeaderLength + (long)length;
                if (buffer.Length >= frameLength)
                {
                    var payload = buffer.Slice(MessageFraming.HeaderLength, length);
                    T message;
                    try
                    {
                        message = Decode(payload, compressed, marshaller);
                    }
                    finally
                    {
                        _reader.AdvanceTo(buffer.GetPosition(frameLength));
                    }

                    return (true, message);
                }
            }

            if (result.IsCompleted)
            {
                _reader.AdvanceTo(buffer.End);
                if (buffer.Length == 0)
                {
                    return (false, default!);
                }

                throw new RpcException(StatusCode.Internal, buffer.Length < MessageFraming.HeaderLength
                    ? $"The stream ended inside a message header ({buffer.Length} of 5 bytes)."
                    : $"The stream ended inside a message: its header promised {length} bytes, only {buffer.Length - MessageFraming.HeaderLength} arrived.");
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            // Incomplete frame: keep everything, and wait for more than we have seen.
            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private T Decode<T>(in ReadOnlySequence<byte> payload, bool compressed, Marshaller<T> marshaller)
    {
        if (!compressed)
        {
            return marshaller.Read(payload);
        }

        if (!_gzip)
        {
            throw new RpcException(StatusCode.Internal, "A message is marked compressed, but the call declared no grpc-encoding to decode it with.");
        }

        using var inflated = new PooledBufferWriter((int)Math.Min(payload.Length * 4, _maxLength) + 16);
        bool fits;
        try
        {
            fits = MessageCompression.TryDecompress(payload, inflated, _maxLength);
        }
        catch (InvalidDataException ex)
        {
            throw new RpcException(new RpcStatus(StatusCode.Internal, $"A gzip-compressed message could not be decompressed: {ex.Message}"), innerException: ex);
        }

        if (!fits)
        {
            throw MessageFraming.TooLarge("receive", inflated.WrittenCount, _maxLength);
        }

        return marshaller.Read(new ReadOnlySequence<byte>(inflated.WrittenMemory));
    }
}
