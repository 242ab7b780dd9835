using Streams.Client.Producing;

namespace Streams.Client.Tests.Producing;

public sealed class ProducerOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        var options = new ProducerOptions { StreamName = "orders" };
        options.Validate();
        Assert.Equal(500, options.BatchMaxRecords);
        Assert.Equal(1024 * 1024, options.BatchMaxBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.Linger);
        Assert.Equal(32L * 1024 * 1024, options.BufferMaxBytes);
        Assert.Equal(4, options.MaxInFlightBatchesPerShard);
        Assert.True(options.Idempotent);
    }

    [Fact]
    public void A_missing_stream_name_says_to_set_it()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions().Validate());
        Assert.Equal("StreamName", error.ParamName);
        Assert.Contains("set it to the stream the producer writes to", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    public void BatchMaxRecords_out_of_range_names_the_range_and_the_value(int records)
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", BatchMaxRecords = records }.Validate());
        Assert.Contains($"BatchMaxRecords must be between 1 and 500 (the PutRecords limit); it is {records}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BatchMaxBytes_above_the_put_limit_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", BatchMaxBytes = 6 * 1024 * 1024 }.Validate());
        Assert.Contains("BatchMaxBytes must be between 1,024 and 5,242,880 bytes (5 MiB, the PutRecords limit); it is 6,291,456", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_linger_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", Linger = TimeSpan.FromMilliseconds(-1) }.Validate());
        Assert.Contains("Linger must be between 0 and 1 minute", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_buffer_smaller_than_a_batch_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", BatchMaxBytes = 64 * 1024, BufferMaxBytes = 1024 }.Validate());
        Assert.Contains("BufferMaxBytes must be at least BatchMaxBytes (65,536), so that a full batch fits; it is 1,024", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public void MaxInFlightBatchesPerShard_out_of_range_says_why_8_is_the_most(int inFlight)
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", MaxInFlightBatchesPerShard = inFlight }.Validate());
        Assert.Contains("must be between 1 and 8 (a shard answers retries of a producer's last 8 batches only)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_dispose_timeout_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", DisposeTimeout = TimeSpan.FromSeconds(-1) }.Validate());
        Assert.Contains("DisposeTimeout must be between 0 and 1 hour", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_transport_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ProducerOptions { StreamName = "s", Transport = (ProducerTransport)7 }.Validate());
        Assert.Contains("Transport must be ProduceStream or PutRecords; it is 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_producer_validates_its_options()
    {
        using var client = StreamsClient.Create("http://127.0.0.1:1");
        Assert.Throws<ArgumentException>(() => new Producer(client, new ProducerOptions { StreamName = "s", BatchMaxRecords = 0 }));
    }
}
