using System.Buffers;
using Streams.Server.Firehose.Output;
using Streams.Server.Firehose.Targets;

namespace Streams.Server.Tests.Firehose;

public sealed class LocalDirectoryTargetTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Writes_an_object_as_a_file_under_the_root_creating_folders()
    {
        using var target = new LocalDirectoryTarget(_directory.Combine("out"));
        Assert.Equal($"directory {_directory.Combine("out")}", target.Description);
        var content = LargeContent(out var expected);
        Assert.False(content.IsSingleSegment);
        await target.PutObjectAsync("logs/2026/11/21/18/o.gz", content, CancellationToken.None);
        Assert.Equal(expected, await File.ReadAllBytesAsync(_directory.Combine("out/logs/2026/11/21/18/o.gz")));
        AssertNoTemporaryFiles();
    }

    [Fact]
    public async Task Writing_a_key_again_replaces_the_object()
    {
        using var target = new LocalDirectoryTarget(_directory.Path);
        await target.PutObjectAsync("a/b", new ReadOnlySequence<byte>("a longer first version"u8.ToArray()), CancellationToken.None);
        await target.PutObjectAsync("a/b", new ReadOnlySequence<byte>("second"u8.ToArray()), CancellationToken.None);
        Assert.Equal("second"u8.ToArray(), await File.ReadAllBytesAsync(_directory.Combine("a/b")));
        await target.PutObjectAsync("a/b", ReadOnlySequence<byte>.Empty, CancellationToken.None);
        Assert.Empty(await File.ReadAllBytesAsync(_directory.Combine("a/b")));
        AssertNoTemporaryFiles();
    }

    [Theory]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/./b")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    public async Task Refuses_keys_that_are_not_relative_paths_inside_the_root(string key)
    {
        using var target = new LocalDirectoryTarget(_directory.Combine("root"));
        var error = await Assert.ThrowsAsync<DeliveryTargetException>(() => target.PutObjectAsync(key, new ReadOnlySequence<byte>("x"u8.ToArray()), CancellationToken.None));
        Assert.Equal(DeliveryTargetErrors.InvalidKey, error.Code);
        Assert.True(error.Permanent);
        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_key_whose_path_is_a_folder_fails_with_an_io_error_and_leaves_no_temporary_file()
    {
        using var target = new LocalDirectoryTarget(_directory.Path);
        await target.PutObjectAsync("a/b", new ReadOnlySequence<byte>("x"u8.ToArray()), CancellationToken.None);
        var error = await Assert.ThrowsAsync<DeliveryTargetException>(() => target.PutObjectAsync("a", new ReadOnlySequence<byte>("y"u8.ToArray()), CancellationToken.None));
        Assert.Equal(DeliveryTargetErrors.IOError, error.Code);
        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        AssertNoTemporaryFiles();
    }

    [Fact]
    public async Task A_canceled_put_leaves_neither_the_object_nor_a_temporary_file()
    {
        using var target = new LocalDirectoryTarget(_directory.Path);
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();
        var content = LargeContent(out _);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => target.PutObjectAsync("x/y", content, canceled.Token));
        Assert.False(File.Exists(_directory.Combine("x/y")));
        AssertNoTemporaryFiles();
    }

    private void AssertNoTemporaryFiles() =>
        Assert.Empty(Directory.EnumerateFiles(_directory.Path, LocalDirectoryTarget.TemporaryFilePrefix + "*", SearchOption.AllDirectories));

    // A few MiB in several pooled chunks (the builder outlives the test: its chunks are not returned).
    private static ReadOnlySequence<byte> LargeContent(out byte[] expected)
    {
        var builder = new DeliveryObjectBuilder(new ObjectFormat(RecordFormat.Raw, ReadOnlyMemory<byte>.Empty, ObjectCompression.None));
        var random = new Random(5);
        var data = new byte[700 * 1024];
        for (var i = 0; i < 5; i++)
        {
            random.NextBytes(data);
            builder.Append($"{i + 1:D20}000000", "k", DateTimeOffset.UnixEpoch, data);
        }

        var content = builder.Finish().Bytes;
        expected = content.ToArray();
        return content;
    }
}
