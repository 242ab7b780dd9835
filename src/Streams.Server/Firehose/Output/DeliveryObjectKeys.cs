using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Streams.Server.Routing;

namespace Streams.Server.Firehose.Output;

/// <summary>
/// Object keys: <c>prefix/yyyy/MM/dd/HH/&lt;delivery&gt;-&lt;shard&gt;-&lt;first&gt;-&lt;last&gt;[.gz]</c>,
/// dated by the UTC hour of the object's first record, so a shard's objects sort by time and then
/// by sequence number, and a key names exactly the records it holds (a rewrite after a crash
/// lands on the same key). Error objects go under <c>errorPrefix/&lt;error code&gt;/</c> the same way.
/// </summary>
public static class DeliveryObjectKeys
{
    /// <summary>What the key of a gzip object ends with.</summary>
    public const string GzipSuffix = ".gz";

    // "-shardId-000000000000-<26 digits>-<26 digits>" after the delivery stream's name.
    private const int NameSuffixLength = 1 + ShardIds.Length + 1 + SequenceNumber.Length + 1 + SequenceNumber.Length;

    /// <summary>The key of a delivered object.</summary>
    /// <param name="prefix">Put before the date folders; a "/" is added when it is not empty and does not end with one.</param>
    /// <param name="firstArrival">The arrival time of the object's first record.</param>
    /// <param name="deliveryName">The delivery stream's name (no "/").</param>
    /// <param name="shardId">The source shard, like shardId-000000000001.</param>
    /// <param name="firstSequence">The object's first record's sequence number (26 digits).</param>
    /// <param name="lastSequence">The object's last record's sequence number, not before the first.</param>
    /// <param name="compression">Gzip adds ".gz".</param>
    /// <exception cref="ArgumentException">A part is not what it should be.</exception>
    public static string For(string prefix, DateTimeOffset firstArrival, string deliveryName, string shardId, string firstSequence, string lastSequence, ObjectCompression compression)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        CheckParts(deliveryName, shardId, firstSequence, lastSequence);
        return Compose(Folder(prefix), firstArrival, deliveryName, shardId, firstSequence, lastSequence, compression);
    }

    /// <summary>The key of an error-output object: like <see cref="For"/> under <c>errorPrefix/errorCode/</c>.</summary>
    /// <param name="errorPrefix">Put before the error code's folder; a "/" is added when it is not empty and does not end with one.</param>
    /// <param name="errorCode">Why the records failed (one folder: not empty, no "/").</param>
    /// <param name="firstArrival">The arrival time of the object's first record.</param>
    /// <param name="deliveryName">The delivery stream's name (no "/").</param>
    /// <param name="shardId">The source shard, like shardId-000000000001.</param>
    /// <param name="firstSequence">The object's first record's sequence number (26 digits).</param>
    /// <param name="lastSequence">The object's last record's sequence number, not before the first.</param>
    /// <param name="compression">Gzip adds ".gz".</param>
    /// <exception cref="ArgumentException">A part is not what it should be.</exception>
    public static string ForErrors(string errorPrefix, string errorCode, DateTimeOffset firstArrival, string deliveryName, string shardId, string firstSequence, string lastSequence, ObjectCompression compression)
    {
        ArgumentNullException.ThrowIfNull(errorPrefix);
        ArgumentException.ThrowIfNullOrEmpty(errorCode);
        if (errorCode.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The error code '{errorCode}' must not contain '/': it is one folder of the key.", nameof(errorCode));
        }

        CheckParts(deliveryName, shardId, firstSequence, lastSequence);
        return Compose(Folder(errorPrefix) + errorCode + "/", firstArrival, deliveryName, shardId, firstSequence, lastSequence, compression);
    }

    /// <summary>Reads a key made by <see cref="For"/> or <see cref="ForErrors"/>, from its end (delivery stream names may contain '-').</summary>
    /// <param name="key">The key.</param>
    /// <param name="parsed">Its parts, when it is such a key.</param>
    public static bool TryParse(string key, [NotNullWhen(true)] out ParsedObjectKey? parsed)
    {
        parsed = null;
        ArgumentNullException.ThrowIfNull(key);
        var parts = key.Split('/');
        if (parts.Length < 5)
        {
            return false;
        }

        if (!TryParseHour(parts[^5], parts[^4], parts[^3], parts[^2], out var hour))
        {
            return false;
        }

        var name = parts[^1];
        var compression = ObjectCompression.None;
        if (name.EndsWith(GzipSuffix, StringComparison.Ordinal))
        {
            compression = ObjectCompression.Gzip;
            name = name[..^GzipSuffix.Length];
        }

        if (name.Length <= NameSuffixLength)
        {
            return false;
        }

        var last = name[^SequenceNumber.Length..];
        var first = name.Substring(name.Length - (2 * SequenceNumber.Length) - 1, SequenceNumber.Length);
        var shardId = name.Substring(name.Length - NameSuffixLength + 1, ShardIds.Length);
        var deliveryName = name[..^NameSuffixLength];
        var separators = name.Length - NameSuffixLength;
        if (name[separators] != '-'
            || name[separators + 1 + ShardIds.Length] != '-'
            || name[^(SequenceNumber.Length + 1)] != '-'
            || !ShardIds.TryParse(shardId, out _)
            || !SequenceNumber.TryParse(first, out _)
            || !SequenceNumber.TryParse(last, out _))
        {
            return false;
        }

        var prefix = parts.Length == 5 ? string.Empty : string.Join('/', parts[..^5]) + "/";
        parsed = new ParsedObjectKey(prefix, hour, deliveryName, shardId, first, last, compression);
        return true;
    }

    private static string Folder(string prefix) =>
        prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";

    private static string Compose(string folder, DateTimeOffset firstArrival, string deliveryName, string shardId, string firstSequence, string lastSequence, ObjectCompression compression)
    {
        var hour = firstArrival.UtcDateTime;
        var suffix = compression == ObjectCompression.Gzip ? GzipSuffix : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{folder}{hour:yyyy'/'MM'/'dd'/'HH}/{deliveryName}-{shardId}-{firstSequence}-{lastSequence}{suffix}");
    }

    private static void CheckParts(string deliveryName, string shardId, string firstSequence, string lastSequence)
    {
        ArgumentException.ThrowIfNullOrEmpty(deliveryName);
        ArgumentNullException.ThrowIfNull(shardId);
        ArgumentNullException.ThrowIfNull(firstSequence);
        ArgumentNullException.ThrowIfNull(lastSequence);
        if (deliveryName.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The delivery stream name '{deliveryName}' must not contain '/'.", nameof(deliveryName));
        }

        if (!ShardIds.TryParse(shardId, out _))
        {
            throw new ArgumentException(ShardIds.ParseError(nameof(shardId), shardId), nameof(shardId));
        }

        if (!SequenceNumber.TryParse(firstSequence, out _))
        {
            throw new ArgumentException(SequenceNumber.ParseError(nameof(firstSequence), firstSequence), nameof(firstSequence));
        }

        if (!SequenceNumber.TryParse(lastSequence, out _))
        {
            throw new ArgumentException(SequenceNumber.ParseError(nameof(lastSequence), lastSequence), nameof(lastSequence));
        }

        if (string.CompareOrdinal(firstSequence, lastSequence) > 0)
        {
            throw new ArgumentException($"The first sequence number {firstSequence} comes after the last, {lastSequence}.", nameof(lastSequence));
        }
    }

    private static bool TryParseHour(string year, string month, string day, string hour, out DateTimeOffset value)
    {
        value = default;
        if (!TryParseDigits(year, 4, out var y)
            || !TryParseDigits(month, 2, out var m)
            || !TryParseDigits(day, 2, out var d)
            || !TryParseDigits(hour, 2, out var h)
            || y < 1 || m is < 1 or > 12 || h > 23
            || d < 1 || d > DateTime.DaysInMonth(y, m))
        {
            return false;
        }

        value = new DateTimeOffset(y, m, d, h, 0, 0, TimeSpan.Zero);
        return true;
    }

    private static bool TryParseDigits(string text, int digits, out int value)
    {
        value = 0;
        return text.Length == digits
            && !text.AsSpan().ContainsAnyExceptInRange('0', '9')
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
