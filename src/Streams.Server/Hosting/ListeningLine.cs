namespace Streams.Server.Hosting;

/// <summary>
/// The one line a node prints on standard output once both listeners are bound, for scripts and
/// tests to learn its addresses: <c>streams: listening grpc=http://127.0.0.1:7400 http=http://127.0.0.1:7401</c>
/// (<c>https</c> under TLS). Its format is stable.
/// </summary>
public static class ListeningLine
{
    /// <summary>What the line starts with.</summary>
    public const string Prefix = "streams: listening ";

    /// <summary>The line for the two addresses.</summary>
    public static string Format(Uri grpcAddress, Uri httpAddress)
    {
        ArgumentNullException.ThrowIfNull(grpcAddress);
        ArgumentNullException.ThrowIfNull(httpAddress);
        return $"{Prefix}grpc={grpcAddress.GetLeftPart(UriPartial.Authority)} http={httpAddress.GetLeftPart(UriPartial.Authority)}";
    }

    /// <summary>Reads the two addresses back from a line; false when it is not a listening line.</summary>
    public static bool TryParse(string? line, out Uri? grpcAddress, out Uri? httpAddress)
    {
        grpcAddress = null;
        httpAddress = null;
        if (line is null || !line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var field in line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = field.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0 || !Uri.TryCreate(field[(separator + 1)..], UriKind.Absolute, out var address))
            {
                return false;
            }

            switch (field[..separator])
            {
                case "grpc":
                    grpcAddress = address;
                    break;
                case "http":
                    httpAddress = address;
                    break;
            }
        }

        return grpcAddress is not null && httpAddress is not null;
    }
}
