namespace Streams.Server.Telemetry;

/// <summary>
/// Compares tag lists in the order they were given (key ordinal, value by <see cref="object.Equals(object, object)"/>),
/// and lets a dictionary keyed by tag arrays be searched with the span a measurement carries, so
/// the recording path finds an existing series without allocating.
/// </summary>
internal sealed class PrometheusTagListComparer :
    IEqualityComparer<KeyValuePair<string, object?>[]>,
    IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, KeyValuePair<string, object?>[]>
{
    /// <summary>The comparer; it holds no state.</summary>
    public static PrometheusTagListComparer Instance { get; } = new();

    /// <inheritdoc />
    public bool Equals(KeyValuePair<string, object?>[]? x, KeyValuePair<string, object?>[]? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && Equals((ReadOnlySpan<KeyValuePair<string, object?>>)x, y));

    /// <inheritdoc />
    public int GetHashCode(KeyValuePair<string, object?>[] obj) => GetHashCode((ReadOnlySpan<KeyValuePair<string, object?>>)obj);

    /// <inheritdoc />
    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, KeyValuePair<string, object?>[] other)
    {
        if (alternate.Length != other.Length)
        {
            return false;
        }

        for (var i = 0; i < alternate.Length; i++)
        {
            if (!string.Equals(alternate[i].Key, other[i].Key, StringComparison.Ordinal) || !Equals(alternate[i].Value, other[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
    {
        var hash = new HashCode();
        foreach (var tag in alternate)
        {
            hash.Add(tag.Key);
            hash.Add(tag.Value);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public KeyValuePair<string, object?>[] Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => alternate.ToArray();
}
