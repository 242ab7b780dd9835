using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Raft.Transport.V1;
using Streams.Rpc.Server;

namespace Streams.Raft.Transport;

/// <summary>
/// The server side of <c>streams.raft.v1.RaftTransport</c>: decodes each batch and hands its
/// messages to an <see cref="IRaftMessageHandler"/> (which only queues them), then acknowledges.
/// </summary>
/// <param name="handler">Takes the received messages, usually a <c>RaftHost</c>.</param>
/// <param name="logger">Logs batches with malformed messages; null for none.</param>
public sealed class RaftTransportService(IRaftMessageHandler handler, ILogger<RaftTransportService>? logger = null) : IRpcService
{
    private readonly IRaftMessageHandler _handler = handler ?? throw new ArgumentNullException(nameof(handler));
    private readonly ILogger _logger = logger ?? NullLogger<RaftTransportService>.Instance;

    /// <summary>Send: delivers one batch.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="context">The call.</param>
    public Task<RaftBatchAck> Send(RaftBatch batch, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var malformed = RaftMessageCodec.DecodeBatch(batch, _handler);
        if (malformed > 0)
        {
            RaftTransportLog.MalformedMessages(_logger, malformed, batch.FromNode, context.Peer);
        }

        return Task.FromResult(new RaftBatchAck());
    }

    /// <inheritdoc/>
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(RaftTransportMethods.Send, Send);
    }
}
