using Microsoft.Extensions.Primitives;

namespace Streams.Rpc.Framing;

/// <summary>Maps <see cref="Metadata"/> to HTTP/2 header fields and back.</summary>
internal static class MetadataHeaders
{
    /// <summary>True for header names that belong to HTTP or to gRPC itself, never to custom metadata.</summary>
    public static bool IsReserved(string name) =>
        name.Length == 0
        || name[0] == ':'
        || name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals("user-agent", StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("accept-encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("date", StringComparison.OrdinalIgnoreCase)
        || name.Equals("server", StringComparison.OrdinalIgnoreCase)
        || name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase);

    /// <summary>The wire value of an entry: binary values as unpadded base64, as the spec asks.</summary>
    public static string ToHeaderValue(Metadata.Entry entry) =>
        entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes).TrimEnd('=') : entry.Value;

    /// <summary>Adds a received header's values to <paramref name="metadata"/>; skips reserved and malformed ones.</summary>
    public static void AddReceived(Metadata metadata, string name, StringValues values)
    {
        if (IsReserved(name))
        {
            return;
        }

        foreach (var value in values)
        {
            AddReceivedValue(metadata, name, value);
        }
    }

    /// <summary>Adds one received header value; the caller has checked <see cref="IsReserved"/>.</summary>
    public static void AddReceivedValue(Metadata metadata, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        var key = name.ToLowerInvariant();
        try
        {
            if (Metadata.IsBinaryKey(key))
            {
                // Several binary values may arrive comma-joined in one field.
                foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    metadata.Add(new Metadata.Entry(key, DecodeBase64(part)));
                }
            }
            else
            {
                metadata.Add(new Metadata.Entry(key, value));
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            // A header that is not valid gRPC metadata is not ours to interpret.
        }
    }

    /// <summary>Decodes base64 with or without padding.</summary>
    public static byte[] DecodeBase64(string value)
    {
        var padding = (4 - value.Length % 4) % 4;
        return Convert.FromBase64String(padding == 0 ? value : value + new string('=', padding));
    }
}
