namespace Streams.Server.Metadata;

/// <summary>The rule for stream names: 1 to 128 characters of letters, digits, '_', '.' and '-' (as Kinesis).</summary>
public static class StreamNames
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 128;

    /// <summary>Null when <paramref name="name"/> is a valid stream name, else a message saying why not.</summary>
    /// <param name="name">The name.</param>
    public static string? Validate(string? name) => Validate(name, "stream_name", MaxLength);

    /// <summary>
    /// Null when <paramref name="name"/> is 1 to <paramref name="maxLength"/> characters of letters,
    /// digits, '_', '.' and '-' (the alphabet of every name in the API), else a message naming <paramref name="field"/>.
    /// </summary>
    /// <param name="name">The name.</param>
    /// <param name="field">The request field it came in, such as delivery_stream_name.</param>
    /// <param name="maxLength">The longest name allowed.</param>
    public static string? Validate(string? name, string field, int maxLength)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"{field} is required: 1 to {maxLength} characters of letters, digits, '_', '.' and '-'.";
        }

        if (name.Length > maxLength || !name.All(IsNameChar))
        {
            var shown = name.Length <= 48 ? name : string.Concat(name.AsSpan(0, 45), "...");
            return $"{field} must be 1 to {maxLength} characters of letters, digits, '_', '.' and '-'; '{shown}' ({name.Length} characters) is not.";
        }

        return null;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';
}
