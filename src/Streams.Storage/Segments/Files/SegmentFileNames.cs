using System.Globalization;

namespace Streams.Storage.Segments.Files;

/// <summary>
/// Names of a segment's files: the base index as 20 zero-padded digits, so that an ordinal sort
/// of the names is index order (<c>00000000000000000001.log</c>, <c>.index</c>, <c>.timeindex</c>).
/// </summary>
internal static class SegmentFileNames
{
    /// <summary>Extension of a segment's log file.</summary>
    public const string LogExtension = ".log";

    /// <summary>Extension of a segment's sparse offset index.</summary>
    public const string OffsetIndexExtension = ".index";

    /// <summary>Extension of a segment's sparse time index.</summary>
    public const string TimeIndexExtension = ".timeindex";

    /// <summary>The file that holds the directory for one open log at a time.</summary>
    public const string LockFileName = ".lock";

    private const int Digits = 20;

    /// <summary>The 20-digit stem of a segment's files.</summary>
    public static string Stem(long baseIndex) => baseIndex.ToString("D20", CultureInfo.InvariantCulture);

    /// <summary>Full path of a segment's log file.</summary>
    public static string LogPath(string directory, long baseIndex) => Path.Combine(directory, Stem(baseIndex) + LogExtension);

    /// <summary>Full path of a segment's offset index.</summary>
    public static string OffsetIndexPath(string directory, long baseIndex) => Path.Combine(directory, Stem(baseIndex) + OffsetIndexExtension);

    /// <summary>Full path of a segment's time index.</summary>
    public static string TimeIndexPath(string directory, long baseIndex) => Path.Combine(directory, Stem(baseIndex) + TimeIndexExtension);

    /// <summary>Parses the base index from a file name with the given extension.</summary>
    public static bool TryParse(string fileName, string extension, out long baseIndex)
    {
        baseIndex = 0;
        if (!fileName.EndsWith(extension, StringComparison.Ordinal))
        {
            return false;
        }

        var stem = fileName.AsSpan(0, fileName.Length - extension.Length);
        return stem.Length == Digits
            && !stem.ContainsAnyExceptInRange('0', '9')
            && long.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out baseIndex)
            && baseIndex >= 1;
    }
}
