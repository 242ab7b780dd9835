using System.Text;
using Streams.Rpc;

namespace Streams.Client.Producing;

/// <summary>Reads protobuf wire format from a span: tags, varints, length-delimited fields; skips unknown fields.</summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _source;
    private int _position;

    public WireReader(ReadOnlySpan<byte> source)
    {
        _source = source;
        _position = 0;
    }

    /// <summary>True once everything was read.</summary>
    public readonly bool AtEnd => _position >= _source.Length;

    /// <summary>The next field's number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    /// <summary>A varint.</summary>
    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _source.Length)
            {
                throw Malformed("a varint runs past the end");
            }

            var b = _source[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a varint is longer than 10 bytes");
    }

    /// <summary>A length-delimited field's bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_source.Length - _position))
        {
            throw Malformed("a field runs past the end");
        }

        var bytes = _source.Slice(_position, (int)length);
        _position += (int)length;
        return bytes;
    }

    /// <summary>A string field (UTF-8).</summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>Skips a field of <paramref name="wireType"/>.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Advance(8);
                break;
            case 2:
                ReadBytes();
                break;
            case 5:
                Advance(4);
                break;
            default:
                throw Malformed($"wire type {wireType} is not supported");
        }
    }

    private void Advance(int count)
    {
        if (count > _source.Length - _position)
        {
            throw Malformed("a field runs past the end");
        }

        _position += count;
    }

    private static RpcException Malformed(string problem) =>
        new(new RpcStatus(StatusCode.Internal, $"The PutRecords response is not valid protobuf: {problem}."));
}
