using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Api;
using Streams.Rpc;
using Streams.Server.Api;
using RpcMetadata = Streams.Rpc.Metadata;

namespace Streams.Server.Tests.Api;

/// <summary>
/// How failures become the error of a Produce stream's per-batch answer: each batch must be
/// answered with a name a producer can act on, whatever failed.
/// </summary>
public sealed class ApiErrorMappingTests
{
    [Fact]
    public void A_status_relayed_from_the_leader_keeps_its_error_name_and_leader_hint()
    {
        var relayed = new RpcException(StatusCode.FailedPrecondition, "gap in producer sequence", new RpcMetadata()
            .Add(StreamsErrors.TrailerName, StreamsErrors.OutOfOrderSequence)
            .Add(StreamsErrors.LeaderTrailerName, "node-2"));

        var error = ApiCalls.ToApiException(NullLogger.Instance, relayed, "/streams.v1.Streams/Produce");

        Assert.Equal(StatusCode.FailedPrecondition, error.Code);
        Assert.Equal(StreamsErrors.OutOfOrderSequence, error.ErrorName);
        Assert.Equal("gap in producer sequence", error.Message);
        Assert.Equal("node-2", error.LeaderHint);
    }

    [Fact]
    public void A_relayed_UNAVAILABLE_without_a_name_is_ServiceUnavailable()
    {
        var error = ApiCalls.ToApiException(NullLogger.Instance, new RpcException(StatusCode.Unavailable, "connection refused"), "m");
        Assert.Equal(StreamsErrors.Unavailable, error.ErrorName);
    }

    [Fact]
    public void A_leader_change_is_retryable_and_anything_else_is_an_internal_failure()
    {
        Assert.Equal(StatusCode.Unavailable, ApiCalls.ToApiException(NullLogger.Instance, new TimeoutException("no leader"), "m").Code);
        var other = ApiCalls.ToApiException(NullLogger.Instance, new InvalidOperationException("boom"), "m");
        Assert.Equal(StreamsErrors.InternalFailure, other.ErrorName);
        Assert.Contains("boom", other.Message, StringComparison.Ordinal);
    }
}
