using FsCheck;
using FsCheck.Fluent;
using Streams.Client.Api;
using Streams.Client.Retries;
using Streams.Rpc;

namespace Streams.Client.Tests;

public sealed class RetryPolicyTests
{
    private static readonly RetryPolicy _policy = new(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));

    [Fact]
    public void Delays_double_until_the_cap_and_jitter_stays_in_the_upper_half()
    {
        Prop.ForAll(Gen.Choose(0, 40).ToArbitrary(), Gen.Choose(0, 999).ToArbitrary(), (retry, draw) =>
        {
            var cap = Math.Min(2000, 50 * Math.Pow(2, retry));
            var delay = _policy.DelayBefore(retry, draw / 1000.0).TotalMilliseconds;
            return delay >= (cap / 2) - 1e-6 && delay <= cap + 1e-6;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Two_draws_of_one_retry_differ_so_clients_spread_out()
    {
        Assert.NotEqual(_policy.DelayBefore(3, 0.1), _policy.DelayBefore(3, 0.9));
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, "", true)]
    [InlineData(StatusCode.Aborted, "", true)]
    [InlineData(StatusCode.ResourceExhausted, StreamsErrors.ProvisionedThroughputExceeded, true)]
    [InlineData(StatusCode.ResourceExhausted, StreamsErrors.LimitExceeded, false)]
    [InlineData(StatusCode.InvalidArgument, StreamsErrors.InvalidArgument, false)]
    [InlineData(StatusCode.NotFound, StreamsErrors.ResourceNotFound, false)]
    [InlineData(StatusCode.FailedPrecondition, StreamsErrors.LeaseLost, false)]
    public void Only_transient_failures_are_retried(StatusCode code, string errorName, bool retried)
    {
        var trailers = new Metadata();
        if (errorName.Length > 0)
        {
            trailers.Add(StreamsErrors.TrailerName, errorName);
        }

        Assert.Equal(retried, RetryPolicy.IsRetryable(new RpcException(code, "x", trailers)));
    }
}
