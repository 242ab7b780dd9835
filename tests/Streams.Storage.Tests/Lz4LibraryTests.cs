using Streams.Storage.Batches;

namespace Streams.Storage.Tests;

/// <summary>The system's liblz4 through LibraryImport, and the message when it is missing.</summary>
public sealed class Lz4LibraryTests
{
    [Fact]
    public void A_missing_library_fails_with_a_message_that_says_what_to_install()
    {
        var error = Assert.Throws<DllNotFoundException>(() => Lz4Library.EnsureAvailable("liblz4-does-not-exist.so.1"));
        Assert.Equal(
            "LZ4 is configured but liblz4-does-not-exist.so.1 is missing; install Debian's liblz4-1 (apt-get install liblz4-1) or configure codec None.",
            error.Message);
    }

    [Fact]
    public void The_system_library_is_there_and_at_least_1_7()
    {
        var version = Lz4Library.EnsureAvailable();
        Assert.True(version >= 10700, $"liblz4 {version}");
        Assert.StartsWith("1.", Lz4Library.Version, StringComparison.Ordinal);
        Assert.Equal($"{version / 10000}.{version / 100 % 100}.{version % 100}", Lz4Library.Version);
    }

    [Fact]
    public void A_library_without_the_LZ4_functions_is_refused_naming_the_first_missing_one()
    {
        // libc loads but is not liblz4.
        var error = Assert.Throws<DllNotFoundException>(() => Lz4Library.EnsureAvailable("libc.so.6"));
        Assert.Contains("libc.so.6 does not export LZ4_versionNumber", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install liblz4-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_compresses_and_decompresses_to_the_same_bytes()
    {
        var data = BatchSamples.MakeData(10_000, 2, 3);
        var block = new byte[Lz4Library.CompressBound(data.Length)];
        var compressed = Lz4Library.Compress(data, block);
        Assert.InRange(compressed, 1, data.Length / 4);

        var back = new byte[data.Length];
        Assert.Equal(data.Length, Lz4Library.Decompress(block.AsSpan(0, compressed), back));
        Assert.Equal(data, back);
        Assert.True(Lz4Library.Decompress(block.AsSpan(0, compressed), new byte[data.Length - 1]) < 0, "a block larger than its buffer is an error");
    }

    [Fact]
    public void Compressing_into_too_small_a_buffer_returns_zero() =>
        Assert.Equal(0, Lz4Library.Compress(BatchSamples.MakeData(1000, 0, 1), new byte[10]));
}
