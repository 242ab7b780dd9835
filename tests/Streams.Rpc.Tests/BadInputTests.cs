using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Rpc.Client;
using Streams.Rpc.Interop;
using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>
/// Hostile and broken input: the server answers the right status where it can, logs, and keeps
/// serving other calls on the same and on other connections.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const string UnaryPath = "/streams.testing.v1.Interop/Unary";
    private readonly LogCollector _logs = new();
    private readonly RawHttp2 _raw = new();
    private RpcTestServer? _server;
    private RpcChannel? _channel;

    private RpcTestServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await RpcTestServer.StartAsync(
            services: s =>
            {
                s.AddRpcService<ProbeService>();
                s.AddSingleton<ILoggerProvider>(_logs);
            },
            minimumLogLevel: LogLevel.Information);
        _channel = RpcChannel.ForAddress(_server.Address);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        _raw.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private static byte[] Echo(string text) => new EchoRequest { Payload = ByteString.CopyFromUtf8(text) }.ToByteArray();

    /// <summary>The server still serves: on the raw client's connection, on the shared channel and on a new connection.</summary>
    private async Task AssertStillServingAsync()
    {
        var payload = Echo("still here");
        var raw = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, (uint)payload.Length, payload));
        Assert.Equal("0", raw.GrpcStatus);

        var response = await new InteropClient(_channel!).UnaryAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8("ok") });
        Assert.Equal("ok", response.Payload.ToStringUtf8());

        using var fresh = RpcChannel.ForAddress(Server.Address);
        Assert.Equal("new", (await new InteropClient(fresh).UnaryAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8("new") })).Payload.ToStringUtf8());
    }

    private void AssertLogged(LogLevel atLeast, string fragment) =>
        Assert.Contains(_logs.Entries, e => e.Level >= atLeast && e.Message.Contains(fragment, StringComparison.Ordinal));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Random_bytes_on_the_port_close_only_that_connection(bool afterHttp2Preface)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Server.Port);
        var stream = tcp.GetStream();
        var garbage = new byte[64 * 1024];
        new Random(20261121).NextBytes(garbage);
        try
        {
            if (afterHttp2Preface)
            {
                await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            }

            await stream.WriteAsync(garbage);
        }
        catch (IOException)
        {
            // The server may close before it has read everything: that is the point.
        }

        // The server closes the connection (after a GOAWAY or an error response) rather than waiting for more.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A reset is a close too.
        }

        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_frame_whose_length_lies_is_answered_INTERNAL_and_logged()
    {
        // Header promises 1000 bytes; the stream ends after 10.
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, 1000, new byte[10]));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("13", response.GrpcStatus);
        Assert.Contains("ended inside a message", response.GrpcMessage, StringComparison.Ordinal);
        AssertLogged(LogLevel.Warning, UnaryPath);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_frame_longer_than_the_limit_is_refused_before_it_is_buffered()
    {
        // Declares 100 MiB against a 4 MiB limit, and sends almost nothing of it.
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, 100 * 1024 * 1024, new byte[10]));

        Assert.Equal("8", response.GrpcStatus);
        Assert.Contains("limit 4194304 bytes", Uri.UnescapeDataString(response.GrpcMessage ?? string.Empty), StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData(7, "compressed flag 7")]
    [InlineData(1, "no grpc-encoding")]
    public async Task A_bad_compressed_flag_is_INTERNAL(byte flag, string expected)
    {
        var payload = Echo("x");
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(flag, (uint)payload.Length, payload));

        Assert.Equal("13", response.GrpcStatus);
        Assert.Contains(expected, Uri.UnescapeDataString(response.GrpcMessage ?? string.Empty), StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Bytes_that_are_not_the_request_message_are_INTERNAL_naming_the_type()
    {
        byte[] garbage = [0xFF, 0xFF, 0xFF, 0xFF];
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, (uint)garbage.Length, garbage));

        Assert.Equal("13", response.GrpcStatus);
        Assert.Contains("not a valid EchoRequest", Uri.UnescapeDataString(response.GrpcMessage ?? string.Empty), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "ended with none")]
    [InlineData(2, "sent more")]
    public async Task A_unary_call_needs_exactly_one_request_message(int count, string expected)
    {
        var payload = Echo("x");
        var body = Enumerable.Repeat(GrpcFrame.Of(0, (uint)payload.Length, payload), count).SelectMany(b => b).ToArray();
        var response = await _raw.SendAsync(Server.Address, UnaryPath, body);

        Assert.Equal("13", response.GrpcStatus);
        Assert.Contains(expected, Uri.UnescapeDataString(response.GrpcMessage ?? string.Empty), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_before_any_message_is_a_trailers_only_response()
    {
        var response = await _raw.SendAsync(Server.Address, "/no.such.Service/Method", []);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("12", response.Headers["grpc-status"]);
        Assert.Equal("application/grpc", response.Headers.GetValueOrDefault("content-type") ?? "application/grpc");
        Assert.Empty(response.Body);
        Assert.Empty(response.Trailers);
    }

    [Fact]
    public async Task The_status_message_is_percent_encoded_on_the_wire()
    {
        var payload = new EchoRequest { FailWithCode = 9, FailWithMessage = "ünï % done" }.ToByteArray();
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, (uint)payload.Length, payload));

        Assert.Equal("9", response.GrpcStatus);
        Assert.Equal("%C3%BCn%C3%AF %25 done", response.GrpcMessage);
    }

    [Fact]
    public async Task The_servers_own_deadline_ends_a_slow_call_with_DEADLINE_EXCEEDED()
    {
        // No client-side timer here: only the server's grpc-timeout handling can end this call early.
        var payload = new EchoRequest { DelayMs = 30_000 }.ToByteArray();
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, (uint)payload.Length, payload), headers: new Dictionary<string, string> { ["grpc-timeout"] = "200m" });

        Assert.Equal("4", response.GrpcStatus);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("123456789S")]
    [InlineData("10x")]
    public async Task A_malformed_grpc_timeout_is_INTERNAL_and_says_what_is_expected(string timeout)
    {
        var payload = Echo("x");
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(0, (uint)payload.Length, payload), headers: new Dictionary<string, string> { ["grpc-timeout"] = timeout });

        Assert.Equal("13", response.GrpcStatus);
        Assert.Contains("1 to 8 digits", Uri.UnescapeDataString(response.GrpcMessage ?? string.Empty), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_message_encoding_is_UNIMPLEMENTED_with_the_accepted_ones()
    {
        var payload = Echo("x");
        var response = await _raw.SendAsync(Server.Address, UnaryPath, GrpcFrame.Of(1, (uint)payload.Length, payload), headers: new Dictionary<string, string> { ["grpc-encoding"] = "snappy" });

        Assert.Equal("12", response.GrpcStatus);
        Assert.Equal("identity,gzip", response.Headers["grpc-accept-encoding"]);
    }

    [Fact]
    public async Task A_wrong_content_type_is_refused_with_415()
    {
        var response = await _raw.SendAsync(Server.Address, UnaryPath, Encoding.UTF8.GetBytes("{}"), contentType: "application/json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.Status);
        Assert.Null(response.GrpcStatus);
        Assert.Contains("application/grpc", Encoding.UTF8.GetString(response.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_method_other_than_POST_is_refused_with_405()
    {
        var response = await _raw.SendAsync(Server.Address, UnaryPath, [], method: HttpMethod.Put);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.Status);
    }

    [Fact]
    public async Task HTTP_1_1_on_the_h2c_port_is_refused_by_Kestrel()
    {
        var (status, body) = await SendHttp11Async(Server.Address);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("HTTP/2", body, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task HTTP_1_1_reaching_the_dispatcher_is_refused_with_426()
    {
        await using var http1Server = await RpcTestServer.StartAsync(protocols: HttpProtocols.Http1);
        var (status, body) = await SendHttp11Async(http1Server.Address);

        Assert.Equal(HttpStatusCode.UpgradeRequired, status);
        Assert.Contains("gRPC needs HTTP/2", body, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendHttp11Async(Uri server)
    {
        using var http1 = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, UnaryPath)) { Content = new ByteArrayContent(new byte[5]) };
        request.Content.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        using var response = await http1.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stream_cut_in_the_middle_of_a_message_leaves_the_connection_serving()
    {
        using var cut = new CancellationTokenSource();
        var content = new CutContent();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.Address, UnaryPath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        using var invoker = new HttpMessageInvoker(RpcChannel.CreateHttpHandler());
        var sending = invoker.SendAsync(request, cut.Token);
        await content.HalfSent;
        await cut.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);

        // Same connection (the invoker's) and others still serve.
        var payload = Echo("after the cut");
        using var again = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.Address, UnaryPath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(GrpcFrame.Of(0, (uint)payload.Length, payload)),
        };
        again.Content.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        using var response = await invoker.SendAsync(again, CancellationToken.None);
        await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_client_that_never_reads_holds_back_the_writer_without_unbounded_buffering()
    {
        var probe = Server.Services.GetRequiredService<ProbeService>();
        using (var call = _channel!.ServerStreamingCall(ProbeService.Flood, new EchoRequest()))
        {
            await call.ResponseHeadersAsync;
            var sent = await WaitUntilStableAsync(() => probe.FloodedMessages);

            // HTTP/2 flow control stops the writer after a few windows' worth, not 10 GB later.
            Assert.InRange(sent * 64 * 1024, 1, 48L * 1024 * 1024);

            // Meanwhile other calls on the same connection and on others go through.
            await AssertStillServingAsync();
        }

        // Disposing the call cancels it; the blocked writer on the server sees that and ends.
        await WaitUntilAsync(() => probe.FloodsEnded == 1, "the server's flood never ended after the client cancelled");
        AssertNoErrorsLogged();
    }

    [Fact]
    public async Task A_server_that_never_reads_holds_back_the_client_writer()
    {
        using var call = _channel!.ClientStreamingCall(ProbeService.Sink);
        var message = new EchoRequest { Payload = ByteString.CopyFrom(new byte[64 * 1024]) };
        var written = 0;
        while (true)
        {
            var write = call.RequestStream.WriteAsync(message);
            if (await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(2))) != write)
            {
                break;
            }

            await write;
            written++;
            Assert.True(written < 1000, "64 MB went out to a server that reads nothing: the client writer is not held back.");
        }

        Assert.InRange(written * 64L * 1024, 1, 48L * 1024 * 1024);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Calls_beyond_one_connections_stream_limit_open_more_connections()
    {
        await using var limited = await RpcTestServer.StartAsync(
            services: s => s.AddRpcService<ProbeService>(),
            kestrelOptions: k => k.Limits.Http2.MaxStreamsPerConnection = 2);
        using var channel = RpcChannel.ForAddress(limited.Address);

        // One call first, so the client knows the server's limit from its SETTINGS: a burst sent
        // before they arrive may open more streams than allowed, and the server refuses those
        // (REFUSED_STREAM, UNAVAILABLE to the caller), which is not what this test is about.
        await channel.UnaryCall(ProbeService.WhoAmI, new EchoRequest()).ResponseAsync;
        var calls = Enumerable.Range(0, 12)
            .Select(_ => channel.UnaryCall(ProbeService.WhoAmI, new EchoRequest { DelayMs = 500 }).ResponseAsync)
            .ToArray();
        var peers = (await Task.WhenAll(calls)).Select(r => r.Payload.ToStringUtf8()).Distinct().Count();

        Assert.True(peers > 1, $"All 12 calls went over {peers} connection(s) despite a limit of 2 streams per connection.");
    }

    private void AssertNoErrorsLogged() =>
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Error);

    private static async Task<long> WaitUntilStableAsync(Func<long> read)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        var last = -1L;
        var stableFor = 0;
        while (DateTimeOffset.UtcNow < until)
        {
            var now = read();
            stableFor = now == last && now > 0 ? stableFor + 1 : 0;
            if (stableFor >= 5)
            {
                return now;
            }

            last = now;
            await Task.Delay(200);
        }

        Assert.Fail($"The count never settled (last {last}): the writer is not held back.");
        return last;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < until, failure);
            await Task.Delay(50);
        }
    }

    /// <summary>Sends a frame header promising 1000 bytes and 100 of them, then stalls until cancelled.</summary>
    private sealed class CutContent : HttpContent
    {
        private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CutContent() => Headers.TryAddWithoutValidation("content-type", "application/grpc");

        public Task HalfSent => _halfSent.Task;

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(GrpcFrame.Of(0, 1000, new byte[100]), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            _halfSent.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
