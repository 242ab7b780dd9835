using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Streams.Storage.Segments.Files;

/// <summary>
/// fsync of a directory, so that files created, deleted or renamed in it survive a power loss.
/// .NET has no API for it (opening a directory as a file is refused), so this calls libc on
/// Linux and macOS; elsewhere it does nothing.
/// </summary>
public static partial class DirectorySync
{
    /// <summary>Forces the directory's entries to stable storage.</summary>
    /// <param name="directory">The directory.</param>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Could not open directory {directory} to fsync it.", new Win32Exception(Marshal.GetLastPInvokeError()));
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed.", new Win32Exception(Marshal.GetLastPInvokeError()));
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
