using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace Streams.Server.Shards.Log;

/// <summary>
/// fsync of a directory, so that a file created or renamed in it is still there after a power
/// loss. .NET cannot open a directory as a file, hence libc (Linux and macOS; elsewhere nothing
/// is done). The path goes as NUL-terminated UTF-8 bytes: no string marshalling, so no unsafe
/// code, which this project does not allow.
/// </summary>
internal static class DirectoryFlush
{
    /// <summary>Forces the entries of <paramref name="directory"/> to stable storage.</summary>
    /// <exception cref="IOException">The directory could not be opened or fsynced.</exception>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var fd = OpenDirectory(Encoding.UTF8.GetBytes(directory + "\0"), 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Could not open the directory {directory} to fsync it.", new Win32Exception(Marshal.GetLastPInvokeError()));
        }

        try
        {
            if (FsyncDescriptor(fd) != 0)
            {
                throw new IOException($"fsync of the directory {directory} failed.", new Win32Exception(Marshal.GetLastPInvokeError()));
            }
        }
        finally
        {
            _ = CloseDescriptor(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int OpenDirectory(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FsyncDescriptor(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int CloseDescriptor(int fd);
}
