using System.Buffers;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Streams.Rpc.Framing;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>The length-prefixed message format, byte by byte, and its reader over arbitrary chunking.</summary>
public sealed class FramingTests
{
    private static readonly Marshaller<EchoRequest> _echo = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.Unary, "s", "m").RequestMarshaller;

    [Fact]
    public void An_uncompressed_frame_is_flag_then_big_endian_length_then_the_message()
    {
        var output = new ArrayBufferWriter<byte>();
        MessageFraming.Write(output, new EchoRequest { Payload = ByteString.CopyFrom(0xAB, 0xCD) }, _echo, maxLength: 100, compress: false);

        byte[] expected =
        [
            0x00,                   // compressed flag: no
            0x00, 0x00, 0x00, 0x04, // length 4, big-endian
            0x0A,                   // field 1 (payload), wire type 2 (length-delimited)
            0x02,                   // payload length 2
            0xAB, 0xCD,             // payload
        ];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void An_empty_message_is_a_five_byte_frame()
    {
        var output = new ArrayBufferWriter<byte>();
        MessageFraming.Write(output, new EchoRequest(), _echo, maxLength: 100, compress: false);

        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x00 }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_compressed_frame_sets_the_flag_and_carries_gzip()
    {
        var output = new ArrayBufferWriter<byte>();
        MessageFraming.Write(output, new EchoRequest { Payload = ByteString.CopyFrom(new byte[1000]) }, _echo, maxLength: 2000, compress: true);

        var frame = output.WrittenSpan;
        Assert.Equal(0x01, frame[0]);                           // compressed flag: yes
        Assert.Equal(frame.Length - 5, (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame[1..5]));
        Assert.Equal(new byte[] { 0x1F, 0x8B }, frame[5..7].ToArray()); // the gzip magic number
        Assert.True(frame.Length < 100, "1000 zero bytes should compress well below 100 bytes.");
    }

    [Fact]
    public void A_message_over_the_send_limit_is_RESOURCE_EXHAUSTED_and_nothing_is_written()
    {
        var output = new ArrayBufferWriter<byte>();
        var error = Assert.Throws<RpcException>(() => MessageFraming.Write(output, new EchoRequest { Payload = ByteString.CopyFrom(new byte[100]) }, _echo, maxLength: 50, compress: false));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void A_header_split_across_segments_is_read()
    {
        // Flag and first length byte in one segment, the rest of the length in another.
        var sequence = Segments([0x01, 0x00], [0x00, 0x01, 0x02, 0xFF]);

        Assert.True(MessageFraming.TryReadHeader(sequence, out var compressed, out var length));
        Assert.True(compressed);
        Assert.Equal(258u, length);
    }

    [Fact]
    public void Fewer_than_five_bytes_are_not_a_header_yet()
    {
        Assert.False(MessageFraming.TryReadHeader(new ReadOnlySequence<byte>([0x00, 0x00, 0x00, 0x01]), out _, out _));
    }

    [Fact]
    public void Any_messages_written_then_read_through_any_chunking_come_back_equal() =>
        Prop.ForAll(
            Gen.ListOf(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>()).Select(b => new EchoRequest { Payload = ByteString.CopyFrom(b), Tag = b.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) })).ToArbitrary(),
            Gen.Choose(1, 64).ToArbitrary(),
            ArbMap.Default.ArbFor<bool>(),
            (messages, chunk, gzip) => RoundTripAsync(messages.ToList(), chunk, gzip).GetAwaiter().GetResult())
        .QuickCheckThrowOnFailure();

    [Fact]
    public async Task A_gzip_message_that_inflates_past_the_limit_is_RESOURCE_EXHAUSTED()
    {
        // 1 MiB of zeros compresses to about 1 KiB: small on the wire, too big once inflated.
        var output = new ArrayBufferWriter<byte>();
        MessageFraming.Write(output, new EchoRequest { Payload = ByteString.CopyFrom(new byte[1024 * 1024]) }, _echo, maxLength: 2 * 1024 * 1024, compress: true);
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(output.WrittenMemory);
        await pipe.Writer.CompleteAsync();

        var reader = new MessageReader(pipe.Reader, maxLength: 64 * 1024, encoding: "gzip");
        var error = await Assert.ThrowsAsync<RpcException>(async () => await reader.ReadAsync(_echo, CancellationToken.None));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    private static async Task<bool> RoundTripAsync(List<EchoRequest> messages, int chunk, bool gzip)
    {
        var framed = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            MessageFraming.Write(framed, message, _echo, int.MaxValue, gzip);
        }

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var bytes = framed.WrittenMemory;
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            await pipe.Writer.WriteAsync(bytes.Slice(offset, Math.Min(chunk, bytes.Length - offset)));
        }

        await pipe.Writer.CompleteAsync();
        var reader = new MessageReader(pipe.Reader, int.MaxValue, gzip ? "gzip" : null);
        var read = new List<EchoRequest>();
        while (true)
        {
            var (has, message) = await reader.ReadAsync(_echo, CancellationToken.None);
            if (!has)
            {
                break;
            }

            read.Add(message);
        }

        return read.SequenceEqual(messages);
    }

    private static ReadOnlySequence<byte> Segments(byte[] first, byte[] second)
    {
        var head = new Segment(first);
        var tail = head.Append(second);
        return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
