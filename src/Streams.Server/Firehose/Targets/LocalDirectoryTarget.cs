using System.Buffers;
using Streams.Storage.Segments.Files;

namespace Streams.Server.Firehose.Targets;

/// <summary>
/// Objects as files under a directory of this node's disk: key "a/b/c" is file root/a/b/c. Each
/// object is written to a temporary file beside its final name, forced to disk, then renamed over
/// the final name, and the directory is forced to disk: readers see the old object or the whole new
/// one, and an object whose upload returned survives a power loss.
/// </summary>
public sealed class LocalDirectoryTarget : DeliveryTarget
{
    /// <summary>
    /// What temporary files' names start with: such files are never objects (one left behind by a
    /// crash can be deleted).
    /// </summary>
    public const string TemporaryFilePrefix = ".tmp-";

    // Root with one trailing separator: every object's path starts with it.
    private readonly string _rootFolder;

    /// <summary>A target writing under <paramref name="root"/> (created when missing).</summary>
    /// <param name="root">The directory; a relative path is taken from the current directory.</param>
    public LocalDirectoryTarget(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _rootFolder = Path.EndsInDirectorySeparator(Root) ? Root : Root + Path.DirectorySeparatorChar;
    }

    /// <summary>The directory objects go under (absolute).</summary>
    public string Root { get; }

    /// <inheritdoc />
    public override string Description => $"directory {Root}";

    /// <inheritdoc />
    public override async Task PutObjectAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, TemporaryFilePrefix + Guid.NewGuid().ToString("N"));
        try
        {
            var firstCreated = FirstMissing(directory);
            Directory.CreateDirectory(directory);
            await WriteDurablyAsync(temporary, content, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, path, overwrite: true);
            SyncDirectories(directory, firstCreated);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temporary);
            if (e is OperationCanceledException)
            {
                throw;
            }

            throw e is UnauthorizedAccessException
                ? new DeliveryTargetException(DeliveryTargetErrors.AccessDenied, $"Writing object '{key}' under {Root} was refused ({e.Message}): give the node's user write access to the directory, or fix the destination's path.", permanent: true, e)
                : new DeliveryTargetException(DeliveryTargetErrors.IOError, $"Writing object '{key}' under {Root} failed: {e.Message}", permanent: false, e);
        }
    }

    private static async Task WriteDurablyAsync(string path, ReadOnlySequence<byte> content, CancellationToken cancellationToken)
    {
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous, preallocationSize: content.Length);
        var offset = 0L;
        foreach (var segment in content)
        {
            await RandomAccess.WriteAsync(handle, segment, offset, cancellationToken).ConfigureAwait(false);
            offset += segment.Length;
        }

        RandomAccess.FlushToDisk(handle);
    }

    // The highest ancestor of directory (itself included) that does not exist yet, or null.
    private static string? FirstMissing(string directory)
    {
        string? missing = null;
        for (var dir = directory; dir is not null && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
        {
            missing = dir;
        }

        return missing;
    }

    // The renamed file's directory, and the parents of directories this put created, so that the
    // whole path to the object is on disk.
    private static void SyncDirectories(string directory, string? firstCreated)
    {
        DirectorySync.Flush(directory);
        if (firstCreated is null)
        {
            return;
        }

        var stop = Path.GetDirectoryName(firstCreated);
        for (var dir = Path.GetDirectoryName(directory); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            DirectorySync.Flush(dir);
            if (dir == stop)
            {
                break;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the file is named as temporary, so it is never taken for an object.
        }
    }

    private string PathOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var problem = KeyProblem(key);
        if (problem is null)
        {
            var path = Path.GetFullPath(Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar)));
            if (path.StartsWith(_rootFolder, StringComparison.Ordinal))
            {
                return path;
            }

            problem = "it leads outside the directory";
        }

        throw new DeliveryTargetException(
            DeliveryTargetErrors.InvalidKey,
            $"The key '{key}' cannot be a file under {Root}: {problem}. Keys must be relative '/'-separated paths without empty, '.' or '..' folders: check the delivery stream's prefix.",
            permanent: true);
    }

    private static string? KeyProblem(string key)
    {
        if (key.Length == 0)
        {
            return "it is empty";
        }

        if (key[0] == '/' || Path.IsPathRooted(key))
        {
            return "it is an absolute path";
        }

        if (key.Contains('\\', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
        {
            return "it contains a backslash or a NUL character";
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "it has an empty folder name (\"//\" or a trailing \"/\")";
            }

            if (segment is "." or "..")
            {
                return $"it has a '{segment}' folder";
            }
        }

        return null;
    }
}
