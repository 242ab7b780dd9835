namespace Streams.Load.Storage;

/// <summary>Settings of `streams-load storage`.</summary>
internal sealed record StorageSettings
{
    /// <summary>Bytes written per measurement.</summary>
    public long Bytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Runs per measurement; the median is reported.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Where the files go; null: a temporary directory, deleted afterwards.</summary>
    public string? Directory { get; init; }

    /// <summary>Also write the table as Markdown here.</summary>
    public FileInfo? MarkdownFile { get; init; }

    /// <summary>Also measure allocations per record with BenchmarkDotNet (about a minute).</summary>
    public bool Allocations { get; init; } = true;
}
