namespace Streams.Client.Tests;

public sealed class StreamsClientOptionsTests
{
    [Fact]
    public void No_endpoint_says_to_give_one()
    {
        var error = Assert.Throws<ArgumentException>(() => new StreamsClientOptions { Endpoints = [] }.Validate());
        Assert.Contains("give at least one node address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_endpoint_that_is_not_http_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new StreamsClientOptions { Endpoints = [new Uri("ftp://node:2121")] }.Validate());
        Assert.Contains("ftp://node:2121", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void MaxAttempts_out_of_range_names_the_range(int attempts)
    {
        var error = Assert.Throws<ArgumentException>(() => new StreamsClientOptions { MaxAttempts = attempts }.Validate());
        Assert.Contains("MaxAttempts must be between 1 and 1,000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_max_delay_below_the_initial_one_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new StreamsClientOptions { InitialRetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromMilliseconds(10) }.Validate());
        Assert.Contains("MaxRetryDelay must be at least InitialRetryDelay", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForEndpoints_refuses_a_relative_address()
    {
        var error = Assert.Throws<ArgumentException>(() => StreamsClientOptions.ForEndpoints("localhost:7400x"));
        Assert.Contains("http://127.0.0.1:7400", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_client_validates_its_options()
    {
        Assert.Throws<ArgumentException>(() => new StreamsClient(new StreamsClientOptions { RequestTimeout = TimeSpan.Zero }));
    }
}
