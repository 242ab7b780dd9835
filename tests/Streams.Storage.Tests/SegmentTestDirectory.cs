namespace Streams.Storage.Tests.Segments;

/// <summary>A fresh temporary directory, deleted on dispose.</summary>
internal sealed class SegmentTestDirectory : IDisposable
{
    public SegmentTestDirectory()
    {
        Path = Directory.CreateTempSubdirectory("streams-segments-").FullName;
    }

    public string Path { get; }

    public string[] LogFiles() => [.. Directory.GetFiles(Path, "*.log").Order(StringComparer.Ordinal)];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up; never fail a test over it.
        }
    }
}
