using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Storage.Tests;

/// <summary>A log configured for LZ4 checks for liblz4 when it opens, not at the first compressed batch.</summary>
public sealed class SegmentLogCodecTests
{
    [Fact]
    public async Task A_log_configured_for_LZ4_opens_when_liblz4_is_installed()
    {
        var directory = Directory.CreateTempSubdirectory("streams-codec-").FullName;
        try
        {
            await using var log = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = directory, Codec = BatchCodec.Lz4 });
            using var builder = new BatchBuilder();
            builder.Reset(1, 1, BatchCodec.Lz4);
            builder.Add("key", null, new byte[4096], 1_700_000_000_000);
            log.Append(builder.Build().Span);
            Assert.Equal(1, log.LastIndex);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void An_unknown_codec_is_refused_with_what_to_set() =>
        Assert.Contains("Codec is 9: set it to None or Lz4", Assert.Throws<ArgumentException>(() => new SegmentLogOptions { Directory = "/tmp/x", Codec = (BatchCodec)9 }.Validate()).Message, StringComparison.Ordinal);
}
