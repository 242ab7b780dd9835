using System.Globalization;
using System.Runtime.InteropServices;

namespace Streams.Storage.Batches;

/// <summary>
/// LZ4 block compression from the system's liblz4 (Debian package <c>liblz4-1</c>), called through
/// source-generated P/Invoke. Storage opened with <see cref="BatchCodec.Lz4"/> configured calls
/// <see cref="EnsureAvailable"/> at startup so that a missing library stops the node with a message
/// that says what to install, rather than failing the first append.
/// </summary>
public static partial class Lz4Library
{
    /// <summary>The shared object the P/Invoke declarations bind to.</summary>
    public const string DefaultLibraryName = "liblz4.so.1";

    /// <summary>
    /// Loads <paramref name="libraryName"/> and checks that it exports the functions this code
    /// calls. Returns the library's <c>LZ4_versionNumber()</c> (for example 10904 for 1.9.4).
    /// </summary>
    /// <param name="libraryName">The library to check; tests pass a name that does not exist.</param>
    /// <exception cref="DllNotFoundException">
    /// The library cannot be loaded or lacks a function; the message names the Debian package.
    /// </exception>
    public static int EnsureAvailable(string libraryName = DefaultLibraryName)
    {
        ArgumentException.ThrowIfNullOrEmpty(libraryName);
        if (!NativeLibrary.TryLoad(libraryName, out var handle))
        {
            throw Missing(libraryName, "is missing", inner: null);
        }

        try
        {
            ReadOnlySpan<string> exports = ["LZ4_versionNumber", "LZ4_compressBound", "LZ4_compress_default", "LZ4_decompress_safe"];
            foreach (var export in exports)
            {
                if (!NativeLibrary.TryGetExport(handle, export, out _))
                {
                    throw Missing(libraryName, $"does not export {export}", inner: null);
                }
            }

            unsafe
            {
                var versionNumber = (delegate* unmanaged<int>)NativeLibrary.GetExport(handle, "LZ4_versionNumber");
                return versionNumber();
            }
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }

    /// <summary>The version of the bound library as text, for example "1.9.4".</summary>
    /// <exception cref="DllNotFoundException">The library is missing.</exception>
    public static string Version
    {
        get
        {
            int number;
            try
            {
                number = LZ4_versionNumber();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw Missing(DefaultLibraryName, "is missing", e);
            }

            return string.Create(CultureInfo.InvariantCulture, $"{number / 10000}.{number / 100 % 100}.{number % 100}");
        }
    }

    /// <summary>The largest compressed size of <paramref name="inputLength"/> bytes; 0 when the input is too large for LZ4.</summary>
    internal static int CompressBound(int inputLength)
    {
        try
        {
            return LZ4_compressBound(inputLength);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw Missing(DefaultLibraryName, "is missing", e);
        }
    }

    /// <summary>
    /// Compresses <paramref name="source"/> as one LZ4 block into <paramref name="destination"/>.
    /// Returns the compressed length, or 0 when it does not fit.
    /// </summary>
    internal static unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.IsEmpty)
        {
            return 0;
        }

        try
        {
            fixed (byte* s = source)
            fixed (byte* d = destination)
            {
                return LZ4_compress_default(s, d, source.Length, destination.Length);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw Missing(DefaultLibraryName, "is missing", e);
        }
    }

    /// <summary>
    /// Decompresses one LZ4 block into <paramref name="destination"/>. Returns the decompressed
    /// length, or a negative number when the block is malformed or would not fit.
    /// </summary>
    internal static unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.IsEmpty)
        {
            return -1;
        }

        try
        {
            fixed (byte* s = source)
            fixed (byte* d = destination)
            {
                return LZ4_decompress_safe(s, d, source.Length, destination.Length);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw Missing(DefaultLibraryName, "is missing", e);
        }
    }

    private static DllNotFoundException Missing(string libraryName, string problem, Exception? inner) =>
        new($"LZ4 is configured but {libraryName} {problem}; install Debian's liblz4-1 (apt-get install liblz4-1) or configure codec None.", inner);

    [LibraryImport(DefaultLibraryName)]
    private static partial int LZ4_versionNumber();

    [LibraryImport(DefaultLibraryName)]
    private static partial int LZ4_compressBound(int inputSize);

    [LibraryImport(DefaultLibraryName)]
    private static unsafe partial int LZ4_compress_default(byte* source, byte* destination, int sourceSize, int maxDestinationSize);

    [LibraryImport(DefaultLibraryName)]
    private static unsafe partial int LZ4_decompress_safe(byte* source, byte* destination, int compressedSize, int maxDecompressedSize);
}
