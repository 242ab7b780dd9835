using System.Buffers.Binary;

namespace Streams.Raft.Membership;

/// <summary>
/// The payload of an <see cref="Storage.EntryType.Config"/> entry: the change and the whole
/// configuration that results from it. Carrying the whole configuration means a node's
/// membership follows from the last such entry in its log alone, even for a node that joined
/// late and never saw the group's first configuration.
/// </summary>
/// <param name="Change">The change that was made.</param>
/// <param name="State">The configuration after it.</param>
public sealed record ConfigEntry(ConfChange Change, ConfState State)
{
    private const byte Version = 1;

    /// <summary>Encodes to bytes: version, change type, node id, voters, learners, context (little-endian).</summary>
    public byte[] Encode()
    {
        var size = 1 + 1 + 8 + 4 + (8 * State.Voters.Count) + 4 + (8 * State.Learners.Count) + 4 + Change.Context.Length;
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = Version;
        span[1] = (byte)Change.Type;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], Change.NodeId);
        var offset = 10;
        offset = WriteIds(span, offset, State.Voters);
        offset = WriteIds(span, offset, State.Learners);
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], Change.Context.Length);
        Change.Context.Span.CopyTo(span[(offset + 4)..]);
        return buffer;
    }

    /// <summary>Decodes what <see cref="Encode"/> wrote.</summary>
    /// <param name="data">The entry's payload.</param>
    /// <exception cref="FormatException">The payload is not a configuration entry.</exception>
    public static ConfigEntry Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            if (data.Length < 10 || data[0] != Version)
            {
                throw new FormatException($"Not a version {Version} configuration entry ({data.Length} bytes).");
            }

            var type = (ConfChangeType)data[1];
            if (!Enum.IsDefined(type))
            {
                throw new FormatException($"Unknown membership change type {data[1]}.");
            }

            var node = BinaryPrimitives.ReadInt64LittleEndian(data[2..]);
            var offset = 10;
            var voters = ReadIds(data, ref offset);
            var learners = ReadIds(data, ref offset);
            var contextLength = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            if (contextLength < 0 || offset + 4 + contextLength != data.Length)
            {
                throw new FormatException("The configuration entry's context length does not match its size.");
            }

            var context = data.Slice(offset + 4, contextLength).ToArray();
            return new ConfigEntry(new ConfChange(type, node, context), new ConfState(voters, learners));
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or ArgumentException)
        {
            throw new FormatException("The configuration entry is truncated or malformed.", ex);
        }
    }

    private static int WriteIds(Span<byte> span, int offset, IReadOnlyList<long> ids)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], ids.Count);
        offset += 4;
        foreach (var id in ids)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[offset..], id);
            offset += 8;
        }

        return offset;
    }

    private static long[] ReadIds(ReadOnlySpan<byte> data, ref int offset)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        offset += 4;
        if (count < 0 || count > (data.Length - offset) / 8)
        {
            throw new FormatException($"The configuration entry claims {count} ids but is {data.Length} bytes long.");
        }

        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(data[offset..]);
            offset += 8;
        }

        return ids;
    }
}
