using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Streams.Rpc;
using Streams.Testing.V1;

namespace Streams.Load;

/// <summary>
/// For <c>rpc-breakdown</c>: the gRPC wire format written by hand on either side, so that each
/// side of Streams.Rpc can be measured against a peer that costs almost nothing. The server half
/// serves <c>/raw.Grpc/Unary</c> and <c>/raw.Grpc/ServerStream</c> with length-prefixed protobuf and
/// a <c>grpc-status</c> trailer but none of Streams.Rpc's server code; the client half
/// (<see cref="HandFramedGrpcTransport"/>) calls the real Interop service with a pre-encoded request
/// and counts response frames without parsing them.
/// </summary>
internal static class HandFramedGrpc
{
    public const string ServiceName = "raw.Grpc";
    public const string UnaryPath = "/raw.Grpc/Unary";
    public const string StreamPath = "/raw.Grpc/ServerStream";

    /// <summary>The same methods as Interop's, served by the hand-written server.</summary>
    public static readonly Method<EchoRequest, EchoResponse> Unary = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.Unary, ServiceName, "Unary");

    public static readonly Method<EchoRequest, EchoResponse> ServerStream = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.ServerStreaming, ServiceName, "ServerStream");

    /// <summary>Echoes the framed request: EchoRequest{payload} and EchoResponse{payload} encode alike (field 1).</summary>
    public static async Task UnaryAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var reader = context.Request.BodyReader;
        try
        {
            var body = await ReadAllAsync(reader, aborted).ConfigureAwait(false);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = GrpcProtocol.ContentType;
            var writer = response.BodyWriter;
            foreach (var segment in body)
            {
                writer.Write(segment.Span);
            }

            reader.AdvanceTo(body.End);
            await writer.FlushAsync(aborted).ConfigureAwait(false);
            response.AppendTrailer("grpc-status", "0");
        }
        catch (Exception ex) when (aborted.IsCancellationRequested || ex is IOException)
        {
            // The client went away.
        }
    }

    /// <summary>Writes response_count framed EchoResponse{payload, index}, one flush each, then grpc-status 0.</summary>
    public static async Task ServerStreamAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var reader = context.Request.BodyReader;
        byte[]? frame = null;
        try
        {
            var body = await ReadAllAsync(reader, aborted).ConfigureAwait(false);
            var request = EchoRequest.Parser.ParseFrom(body.Slice(5));
            reader.AdvanceTo(body.End);
            var size = request.ResponseSize;

            // Each frame is composed in one reused buffer and written with one copy, as the raw endpoint does.
            frame = ArrayPool<byte>.Shared.Rent(size + 32);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = GrpcProtocol.ContentType;
            var writer = response.BodyWriter;
            for (var i = 0; i < request.ResponseCount; i++)
            {
                var messageLength = 1 + CodedOutputStream.ComputeLengthSize(size) + size + (i == 0 ? 0 : 1 + CodedOutputStream.ComputeInt32Size(i));
                var span = frame.AsSpan();
                span[0] = 0;
                BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)messageLength);
                span[5] = 0x0A; // EchoResponse.payload: field 1, length-delimited
                var length = 6 + WriteVarint(span[6..], (uint)size);
                span.Slice(length, size).Fill((byte)(i % 256));
                length += size;
                if (i > 0)
                {
                    span[length++] = 0x10; // EchoResponse.index: field 2, varint
                    length += WriteVarint(span[length..], (uint)i);
                }

                writer.Write(span[..length]);
                var flushed = await writer.FlushAsync(aborted).ConfigureAwait(false);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return;
                }
            }

            response.AppendTrailer("grpc-status", "0");
        }
        catch (Exception ex) when (aborted.IsCancellationRequested || ex is IOException)
        {
            // The client stopped reading.
        }
        finally
        {
            if (frame is not null)
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
    }

    private static async Task<ReadOnlySequence<byte>> ReadAllAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.IsCompleted || read.IsCanceled)
            {
                return read.Buffer;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static int WriteVarint(Span<byte> output, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            output[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        output[i++] = (byte)value;
        return i;
    }
}

/// <summary>
/// For <c>rpc-breakdown</c>: a gRPC client by hand over <see cref="HttpMessageInvoker"/>: the request
/// frame is encoded once, response frames are counted (their headers parsed) but not decoded, and
/// the <c>grpc-status</c> trailer is checked. It measures the real server with a near-free client.
/// </summary>
internal sealed class HandFramedGrpcTransport : Transport
{
    private const int ReadBufferSize = 64 * 1024;
    private static readonly MediaTypeHeaderValue _grpcContentType = new(GrpcProtocol.ContentType);
    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _unaryUri;
    private readonly Uri _streamUri;
    private readonly byte[] _unaryFrame;

    /// <summary>A client of the methods at <paramref name="unaryPath"/> and <paramref name="streamPath"/>.</summary>
    public HandFramedGrpcTransport(Uri address, LoadSettings settings, string name, string unaryPath, string streamPath)
        : base(settings)
    {
        Name = name;
        _unaryUri = new Uri(address, unaryPath);
        _streamUri = new Uri(address, streamPath);
        var payload = new byte[settings.UnaryPayloadBytes];
        Random.Shared.NextBytes(payload);
        _unaryFrame = Frame(new EchoRequest { Payload = ByteString.CopyFrom(payload) });
        _invoker = new HttpMessageInvoker(RawTransport.CreateHandler(), disposeHandler: true);
    }

    public override string Name { get; }

    public override async Task UnaryAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.UnaryDeadline);
        using var request = NewRequest(_unaryUri, _unaryFrame);
        using var response = await _invoker.SendAsync(request, deadline.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        try
        {
            var counter = new FrameCounter();
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, ReadBufferSize), deadline.Token).ConfigureAwait(false)) > 0)
            {
                counter.Add(buffer.AsSpan(0, read));
            }

            CheckStatus(response);
            if (counter.Frames != 1)
            {
                throw new InvalidDataException($"The unary call answered {counter.Frames} messages.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override async Task StreamAsync(int count, int size, long stopAt, StreamTally tally, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.StreamDeadline);
        using var request = NewRequest(_streamUri, Frame(new EchoRequest { ResponseCount = count, ResponseSize = size }));
        using var response = await _invoker.SendAsync(request, deadline.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        try
        {
            var counter = new FrameCounter();
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, ReadBufferSize), deadline.Token).ConfigureAwait(false)) > 0)
            {
                var before = counter.Frames;
                counter.Add(buffer.AsSpan(0, read));
                tally.Bytes += (counter.Frames - before) * (long)size;
                var now = tally.LastTimestamp = Stopwatch.GetTimestamp();
                if (now >= stopAt)
                {
                    return;
                }
            }

            CheckStatus(response);
            if (counter.Frames != count)
            {
                throw new InvalidDataException($"The stream ended after {counter.Frames} of {count} messages.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void Dispose() => _invoker.Dispose();

    private static byte[] Frame(EchoRequest message)
    {
        var size = message.CalculateSize();
        var frame = new byte[5 + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)size);
        message.WriteTo(frame.AsSpan(5));
        return frame;
    }

    private static HttpRequestMessage NewRequest(Uri uri, byte[] frame)
    {
        var content = new ReadOnlyMemoryContent(frame);
        content.Headers.ContentType = _grpcContentType;
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    private static void CheckStatus(HttpResponseMessage response)
    {
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var values) || response.Headers.TryGetValues("grpc-status", out values)
            ? values.FirstOrDefault()
            : null;
        if (response.StatusCode != HttpStatusCode.OK || status != "0")
        {
            throw new HttpRequestException($"The gRPC call ended with HTTP {(int)response.StatusCode}, grpc-status {status ?? "(none)"}.");
        }
    }

    /// <summary>Counts length-prefixed frames across arbitrary read boundaries.</summary>
    private struct FrameCounter
    {
        private int _headerFilled;
        private long _bodyLeft;
        private uint _length;

        public long Frames { get; private set; }

        public void Add(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                if (_bodyLeft > 0)
                {
                    var take = (int)Math.Min(_bodyLeft, data.Length);
                    _bodyLeft -= take;
                    data = data[take..];
                    continue;
                }

                // Header bytes 1..4 carry the length, big-endian.
                if (_headerFilled > 0)
                {
                    _length = (_length << 8) | data[0];
                }

                _headerFilled++;
                data = data[1..];
                if (_headerFilled == 5)
                {
                    _headerFilled = 0;
                    _bodyLeft = _length;
                    _length = 0;
                    Frames++;
                }
            }
        }
    }
}
