using System.Text;
using Google.Protobuf;
using Streams.Rpc.Client;
using Streams.Rpc.Interop;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>
/// Our client's side of the interop cases (tests/interop/README.md), run against any server that
/// implements the Interop service: ours, Python grpcio's or Node grpc-js's.
/// </summary>
public static class InteropCases
{
    public const int Limit = 4 * 1024 * 1024;

    public static readonly string[] Names =
    [
        "unary", "server_streaming", "client_streaming", "bidi", "deadline_exceeded", "cancellation",
        "max_size_under", "max_size_over", "metadata", "gzip", "error_status", "unimplemented",
    ];

    public static Task RunAsync(string name, Uri target) => name switch
    {
        "unary" => UnaryAsync(target),
        "server_streaming" => ServerStreamingAsync(target),
        "client_streaming" => ClientStreamingAsync(target),
        "bidi" => BidiAsync(target),
        "deadline_exceeded" => DeadlineExceededAsync(target),
        "cancellation" => CancellationAsync(target),
        "max_size_under" => MaxSizeUnderAsync(target),
        "max_size_over" => MaxSizeOverAsync(target),
        "metadata" => MetadataAsync(target),
        "gzip" => GzipAsync(target),
        "error_status" => ErrorStatusAsync(target),
        "unimplemented" => UnimplementedAsync(target),
        _ => throw new ArgumentException($"Unknown interop case '{name}'.", nameof(name)),
    };

    private static CallOptions Timeout(int seconds = 30) => new() { Deadline = DateTimeOffset.UtcNow.AddSeconds(seconds) };

    private static ByteString Bytes(int count, Func<int, byte> value)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = value(i);
        }

        return ByteString.CopyFrom(bytes);
    }

    public static async Task UnaryAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        var payload = Bytes(100, i => (byte)i);
        var response = await client.UnaryAsync(new EchoRequest { Payload = payload }, Timeout());
        Assert.Equal(payload, response.Payload);
    }

    public static async Task ServerStreamingAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        using var call = client.ServerStream(new EchoRequest { ResponseCount = 5, ResponseSize = 1000 }, Timeout());
        var responses = new List<EchoResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            responses.Add(response);
        }

        Assert.Equal([0, 1, 2, 3, 4], responses.Select(r => r.Index));
        Assert.All(responses, r => Assert.Equal(1000, r.Payload.Length));
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    public static async Task ClientStreamingAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        using var call = client.ClientStream(Timeout());
        foreach (var size in new[] { 10, 100, 1000, 10000 })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = Bytes(size, i => 7) });
        }

        await call.RequestStream.CompleteAsync();
        var response = await call;
        Assert.Equal(4, response.ReceivedMessages);
        Assert.Equal(11110, response.ReceivedBytes);
    }

    public static async Task BidiAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        using var call = client.Bidi(Timeout());
        for (var i = 0; i < 5; i++)
        {
            var payload = ByteString.CopyFrom(BitConverter.GetBytes((long)i));
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = payload });
            Assert.True(await call.ResponseStream.MoveNext(), $"The stream ended before response {i}.");
            Assert.Equal(payload, call.ResponseStream.Current.Payload);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    public static async Task DeadlineExceededAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        var started = DateTimeOffset.UtcNow;
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.UnaryAsync(new EchoRequest { DelayMs = 3000 }, new CallOptions { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(300) }));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(2.5), "DEADLINE_EXCEEDED took longer than 2.5 s to arrive.");
    }

    public static async Task CancellationAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        var tag = Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        using (var call = client.Bidi(new CallOptions { CancellationToken = cts.Token, Deadline = DateTimeOffset.UtcNow.AddSeconds(30) }))
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Tag = tag, WaitForCancel = true });
            await WaitUntilAsync(async () => (await client.GetCallOutcomeAsync(new OutcomeRequest { Tag = tag }, Timeout())).Seen, "the server never saw the call");
            await cts.CancelAsync();
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        }

        await WaitUntilAsync(async () => (await client.GetCallOutcomeAsync(new OutcomeRequest { Tag = tag }, Timeout())).Cancelled, "the server never saw the cancellation");
    }

    public static async Task MaxSizeUnderAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target, new RpcChannelOptions { MaxReceiveMessageSizeBytes = Limit, MaxSendMessageSizeBytes = Limit });
        var client = new InteropClient(channel);
        var payload = Bytes(Limit - 64, i => (byte)(i * 31));
        var response = await client.UnaryAsync(new EchoRequest { Payload = payload }, Timeout());
        Assert.Equal(payload, response.Payload);
    }

    public static async Task MaxSizeOverAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target, new RpcChannelOptions { MaxReceiveMessageSizeBytes = Limit, MaxSendMessageSizeBytes = 64 * 1024 * 1024 });
        var client = new InteropClient(channel);
        var sent = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { Payload = Bytes(Limit + 1, i => 1) }, Timeout()));
        Assert.Equal(StatusCode.ResourceExhausted, sent.StatusCode);

        // A client stream's reply is tiny, so only the server's receive limit can refuse it.
        using (var upload = client.ClientStream(Timeout()))
        {
            try
            {
                await upload.RequestStream.WriteAsync(new EchoRequest { Payload = Bytes(Limit + 1, i => 1) });
                await upload.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // The server may refuse before the write completes; the response shows why.
            }

            var refused = await Assert.ThrowsAsync<RpcException>(async () => await upload);
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        }

        using var call = client.ServerStream(new EchoRequest { ResponseCount = 1, ResponseSize = Limit + 1 }, Timeout());
        var received = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.ResourceExhausted, received.StatusCode);

        // Our own send limit stops an oversized message before it leaves.
        using var strict = RpcChannel.ForAddress(target);
        var local = await Assert.ThrowsAsync<RpcException>(async () => await new InteropClient(strict).UnaryAsync(new EchoRequest { Payload = Bytes(Limit + 1, i => 1) }, Timeout()));
        Assert.Equal(StatusCode.ResourceExhausted, local.StatusCode);
    }

    public static async Task MetadataAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        byte[] trailing = [0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b];
        var headers = new Metadata()
            .Add(InteropService.EchoInitialKey, "test_initial_metadata_value")
            .Add(InteropService.EchoTrailingKey, trailing);
        var options = Timeout() with { Headers = headers };

        using (var unary = client.UnaryAsync(new EchoRequest { Payload = Bytes(10, i => 1) }, options))
        {
            await unary;
            Assert.Equal("test_initial_metadata_value", (await unary.ResponseHeadersAsync).GetValue(InteropService.EchoInitialKey));
            Assert.Equal(trailing, unary.GetTrailers().GetValueBytes(InteropService.EchoTrailingKey));
        }

        using var stream = client.ServerStream(new EchoRequest { ResponseCount = 2, ResponseSize = 10 }, options);
        Assert.Equal("test_initial_metadata_value", (await stream.ResponseHeadersAsync).GetValue(InteropService.EchoInitialKey));
        var count = 0;
        await foreach (var unused in stream.ResponseStream.ReadAllAsync())
        {
            count++;
        }

        Assert.Equal(2, count);
        Assert.Equal(trailing, stream.GetTrailers().GetValueBytes(InteropService.EchoTrailingKey));
    }

    public static async Task GzipAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target, new RpcChannelOptions { CompressRequests = true });
        var client = new InteropClient(channel);
        var text = new StringBuilder();
        while (text.Length < 100 * 1024)
        {
            text.Append("streams ");
        }

        var payload = ByteString.CopyFromUtf8(text.ToString());
        var response = await client.UnaryAsync(new EchoRequest { Payload = payload }, Timeout());
        Assert.Equal(payload, response.Payload);

        using var call = client.ClientStream(Timeout());
        for (var i = 0; i < 3; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = payload });
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(3L * payload.Length, (await call).ReceivedBytes);
    }

    public static async Task ErrorStatusAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        var client = new InteropClient(channel);
        const string message = "bad input: the field 'x' must be ≤ 5 % – see «docs»";
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { FailWithCode = 3, FailWithMessage = message }, Timeout()));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);

        var notFound = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { FailWithCode = 5, FailWithMessage = "no such stream" }, Timeout()));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("no such stream", notFound.Status.Detail);
    }

    public static async Task UnimplementedAsync(Uri target)
    {
        using var channel = RpcChannel.ForAddress(target);
        foreach (var (service, name) in new[] { (InteropMethods.ServiceName, "NoSuchMethod"), ("no.such.Service", "Method") })
        {
            var method = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.Unary, service, name);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await channel.UnaryCall(method, new EchoRequest(), Timeout()));
            Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(5);
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > until)
            {
                Assert.Fail($"Waited 5 s: {failure}.");
            }

            await Task.Delay(50);
        }
    }
}
