using System.Collections.Concurrent;
using Google.Protobuf;
using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Interop;

/// <summary>Our implementation of the Interop test service, with the behaviour every peer shares (tests/interop/README.md).</summary>
public sealed class InteropService : InteropServiceBase
{
    public const string EchoInitialKey = "x-grpc-test-echo-initial";
    public const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";

    private readonly ConcurrentDictionary<string, OutcomeResponse> _outcomes = new(StringComparer.Ordinal);

    /// <summary>How the call tagged <paramref name="tag"/> ended, as this server saw it.</summary>
    public OutcomeResponse OutcomeOf(string tag) => _outcomes.TryGetValue(tag, out var outcome) ? outcome.Clone() : new OutcomeResponse();

    public override async Task<EchoResponse> Unary(EchoRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await EchoMetadataAsync(context).ConfigureAwait(false);
        await WaitForCancelIfAskedAsync(request, context).ConfigureAwait(false);
        if (request.DelayMs > 0)
        {
            await Task.Delay(request.DelayMs, context.CancellationToken).ConfigureAwait(false);
        }

        FailIfAsked(request);
        return new EchoResponse { Payload = request.Payload };
    }

    public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoResponse> responses, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(context);
        await EchoMetadataAsync(context).ConfigureAwait(false);
        for (var i = 0; i < request.ResponseCount; i++)
        {
            if (i > 0 && request.DelayMs > 0)
            {
                await Task.Delay(request.DelayMs, context.CancellationToken).ConfigureAwait(false);
            }

            await responses.WriteAsync(new EchoResponse { Index = i, Payload = Payload(request.ResponseSize, i) }, context.CancellationToken).ConfigureAwait(false);
        }

        await WaitForCancelIfAskedAsync(request, context).ConfigureAwait(false);
        FailIfAsked(request);
    }

    public override async Task<EchoResponse> ClientStream(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(context);
        await EchoMetadataAsync(context).ConfigureAwait(false);
        var count = 0;
        long bytes = 0;
        while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var request = requests.Current;
            if (count == 0)
            {
                await WaitForCancelIfAskedAsync(request, context).ConfigureAwait(false);
            }

            count++;
            bytes += request.Payload.Length;
        }

        return new EchoResponse { ReceivedMessages = count, ReceivedBytes = bytes };
    }

    public override async Task Bidi(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoResponse> responses, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(context);
        await EchoMetadataAsync(context).ConfigureAwait(false);
        var index = 0;
        while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var request = requests.Current;
            FailIfAsked(request);
            await WaitForCancelIfAskedAsync(request, context).ConfigureAwait(false);
            await responses.WriteAsync(new EchoResponse { Index = index++, Payload = request.Payload }, context.CancellationToken).ConfigureAwait(false);
        }
    }

    public override Task<OutcomeResponse> GetCallOutcome(OutcomeRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(OutcomeOf(request.Tag));
    }

    private static ByteString Payload(int size, int index)
    {
        var bytes = new byte[size];
        bytes.AsSpan().Fill((byte)(index % 256));
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static void FailIfAsked(EchoRequest request)
    {
        if (request.FailWithCode != 0)
        {
            throw new RpcException((StatusCode)request.FailWithCode, request.FailWithMessage);
        }
    }

    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        if (context.RequestHeaders.Get(EchoInitialKey) is { } initial)
        {
            await context.WriteResponseHeadersAsync(new Metadata().Add(initial)).ConfigureAwait(false);
        }

        if (context.RequestHeaders.Get(EchoTrailingKey) is { } trailing)
        {
            context.ResponseTrailers.Add(trailing);
        }
    }

    private async Task WaitForCancelIfAskedAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.Tag.Length > 0)
        {
            _outcomes[request.Tag] = new OutcomeResponse { Seen = true };
        }

        if (!request.WaitForCancel)
        {
            return;
        }

        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (request.Tag.Length > 0)
            {
                _outcomes[request.Tag] = new OutcomeResponse { Seen = true, Cancelled = context.CancellationToken.IsCancellationRequested };
            }
        }
    }
}
