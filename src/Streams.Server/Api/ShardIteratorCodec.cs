using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Server.Routing;

namespace Streams.Server.Api;

/// <summary>
/// Turns shard iterators into opaque strings and back. The string is the iterator's fields and an
/// HMAC-SHA256 over them (truncated to 16 bytes) with the cluster's iterator key, in base64url: any
/// node holding the key (all of them, from the controller's state) accepts it, and a changed byte
/// is refused. An iterator expires <see cref="Lifetime"/> after it was issued.
/// </summary>
internal sealed class ShardIteratorCodec
{
    /// <summary>How long an iterator is valid, as in Kinesis.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private const byte Version = 1;
    private const int FieldsLength = 1 + 8 + 8 + 8 + 4 + 8 + 8;
    private const int MacLength = 16;
    private const int Length = FieldsLength + MacLength;

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    /// <summary>Creates a codec with the cluster's key.</summary>
    public ShardIteratorCodec(ReadOnlySpan<byte> key, TimeProvider time)
    {
        if (key.Length < 16)
        {
            throw new ArgumentException("An iterator key needs at least 16 bytes.", nameof(key));
        }

        _key = key.ToArray();
        _time = time;
    }

    /// <summary>A new iterator for a position, issued now.</summary>
    public string Encode(long streamId, long groupId, SequenceNumber position, long minArrivalMs = 0) =>
        Encode(new ShardIterator(streamId, groupId, position, minArrivalMs, _time.GetUtcNow().ToUnixTimeMilliseconds()));

    /// <summary>The string form of an iterator.</summary>
    public string Encode(ShardIterator iterator)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(bytes[1..], iterator.StreamId);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[9..], iterator.GroupId);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[17..], iterator.Position.Index);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[25..], iterator.Position.Position);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[29..], iterator.MinArrivalMs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[37..], iterator.IssuedAtMs);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, bytes[..FieldsLength], mac);
        mac[..MacLength].CopyTo(bytes[FieldsLength..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Reads and checks an iterator string.</summary>
    /// <exception cref="StreamsApiException">INVALID_ARGUMENT when malformed or tampered with; FAILED_PRECONDITION (ExpiredIteratorException) when older than five minutes.</exception>
    public ShardIterator Decode(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw StreamsApiException.InvalidArgument("shard_iterator is empty; get one with GetShardIterator, or use next_shard_iterator from the previous GetRecords.");
        }

        Span<byte> bytes = stackalloc byte[Length + 3];
        if (text.Length > 2 * Length || !TryDecode(text, bytes, out var written) || written != Length || bytes[0] != Version)
        {
            throw Invalid();
        }

        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, bytes[..FieldsLength], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacLength], bytes.Slice(FieldsLength, MacLength)))
        {
            throw Invalid();
        }

        var iterator = new ShardIterator(
            BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[9..]),
            new SequenceNumber(BinaryPrimitives.ReadInt64LittleEndian(bytes[17..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[25..])),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[29..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[37..]));
        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(iterator.IssuedAtMs);
        if (age > Lifetime)
        {
            throw new StreamsApiException(
                StatusCode.FailedPrecondition,
                StreamsErrors.ExpiredIterator,
                $"The shard iterator expired: it was issued {age.TotalMinutes:F1} minutes ago and lives {Lifetime.TotalMinutes:F0}; get a new one with GetShardIterator (AFTER_SEQUENCE_NUMBER of the last record you processed).");
        }

        return iterator;
    }

    // Base64Url.TryDecodeFromChars returns false only for a short destination: characters outside
    // the alphabet throw, and must be refused like any other malformed iterator.
    private static bool TryDecode(string text, Span<byte> bytes, out int written)
    {
        try
        {
            return Base64Url.TryDecodeFromChars(text, bytes, out written);
        }
        catch (FormatException)
        {
            written = 0;
            return false;
        }
    }

    private static StreamsApiException Invalid() =>
        StreamsApiException.InvalidArgument("shard_iterator is not one this cluster issued (malformed or altered); use the string GetShardIterator or GetRecords returned, unchanged.");
}
