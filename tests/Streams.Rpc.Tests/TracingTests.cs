using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>Each served call is a span that joins the caller's trace (W3C traceparent).</summary>
public sealed class TracingTests(RpcServerFixture fixture) : IClassFixture<RpcServerFixture>
{
    [Fact]
    public async Task A_call_with_traceparent_is_a_child_of_the_callers_span()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RpcServerTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var raw = new RawHttp2();
        var payload = new EchoRequest { Payload = ByteString.CopyFromUtf8(traceId.ToHexString()) }.ToByteArray();

        var response = await raw.SendAsync(fixture.Server.Address, "/streams.testing.v1.Interop/Unary", GrpcFrame.Of(payload), headers: new Dictionary<string, string> { ["traceparent"] = $"00-{traceId.ToHexString()}-{callerSpan.ToHexString()}-01" });

        Assert.Equal("0", response.GrpcStatus);
        var span = Assert.Single(spans, s => s.TraceId == traceId);
        Assert.Equal(callerSpan, span.ParentSpanId);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("streams.testing.v1.Interop/Unary", span.DisplayName);
        Assert.Equal("Unary", span.GetTagItem("rpc.method"));
        Assert.Equal(0, span.GetTagItem("rpc.grpc.status_code"));
    }
}
