namespace Streams.Server.Metadata;

/// <summary>The rule for stream names: 1 to 128 characters of letters, digits, '_', '.' and '-' (as Kinesis).</summary>
public static class StreamNames
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 128;

    /// <summary>Null when <paramref name="name"/> is a valid stream name, else a message saying why not.</summary>
    /// <param name="name">The name.</param>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "stream_name is required: 1 to 128 characters of letters, digits, '_', '.' and '-'.";
        }

        if (name.Length > MaxLength || !name.All(IsNameChar))
        {
            var shown = name.Length <= 48 ? name : string.Concat(name.AsSpan(0, 45), "...");
            return $"stream_name must be 1 to {MaxLength} characters of letters, digits, '_', '.' and '-'; '{shown}' ({name.Length} characters) is not.";
        }

        return null;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';
}
