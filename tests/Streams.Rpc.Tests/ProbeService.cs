using System.Collections.Concurrent;
using Google.Protobuf;

using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>A test service that exposes what the server side saw: how far a flood got, who called.</summary>
public sealed class ProbeService : IRpcService
{
    public const string ServiceName = "streams.testing.v1.Probe";

    /// <summary>Writes 64 KiB responses until the call ends, counting them.</summary>
    public static readonly Method<EchoRequest, EchoResponse> Flood = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.ServerStreaming, ServiceName, "Flood");

    /// <summary>Never reads its requests; waits for the call to end.</summary>
    public static readonly Method<EchoRequest, EchoResponse> Sink = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.ClientStreaming, ServiceName, "Sink");

    /// <summary>Answers with the caller's address after delay_ms.</summary>
    public static readonly Method<EchoRequest, EchoResponse> WhoAmI = Method.Protobuf<EchoRequest, EchoResponse>(MethodType.Unary, ServiceName, "WhoAmI");

    private static readonly ByteString _chunk = ByteString.CopyFrom(new byte[64 * 1024]);
    private long _flooded;
    private int _floodsEnded;

    public long FloodedMessages => Interlocked.Read(ref _flooded);

    public int FloodsEnded => Volatile.Read(ref _floodsEnded);

    public ConcurrentBag<string> Peers { get; } = [];

    public void Bind(RpcServiceBinder binder)
    {
        binder.AddServerStreaming(Flood, async (request, responses, context) =>
        {
            try
            {
                while (true)
                {
                    await responses.WriteAsync(new EchoResponse { Payload = _chunk }, context.CancellationToken);
                    Interlocked.Increment(ref _flooded);
                }
            }
            finally
            {
                Interlocked.Increment(ref _floodsEnded);
            }
        });
        binder.AddClientStreaming(Sink, async (requests, context) =>
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new EchoResponse();
        });
        binder.AddUnary(WhoAmI, async (request, context) =>
        {
            Peers.Add(context.Peer);
            await Task.Delay(request.DelayMs, context.CancellationToken);
            return new EchoResponse { Payload = ByteString.CopyFromUtf8(context.Peer) };
        });
    }
}
