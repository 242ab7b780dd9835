namespace Streams.Server.Configuration;

/// <summary>How log lines look (configuration key <c>Logging:Format</c>).</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per entry, with a UTC timestamp (<c>simple</c>, the default).</summary>
    Simple,

    /// <summary>One JSON object per line, with the structured state of each entry (<c>json</c>).</summary>
    Json,
}
