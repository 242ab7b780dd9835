using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Tests.Runtime.Support;
using Streams.Raft.Transport;

namespace Streams.Raft.Tests.Transport;

public sealed class RpcRaftTransportTests
{
    private static readonly RpcRaftTransportOptions _quickRetry = new()
    {
        InitialReconnectDelay = TimeSpan.FromMilliseconds(10),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(50),
    };

    [Fact]
    public async Task Messages_of_many_groups_reach_the_peer_with_their_group_and_content()
    {
        var received = new CollectingHandler();
        await using var server = await RaftTransportTestServer.StartAsync(received);
        await using var transport = new RpcRaftTransport(1, new RaftPeers([new(2, server.Address)]));
        var sent = new List<AddressedMessage>();
        for (var group = 1; group <= 200; group++)
        {
            var message = group % 4 == 0
                ? new Message { Type = MessageType.Append, From = 1, To = 2, Term = 3, Index = group, LogTerm = 2, Commit = 7, Entries = [new Entry(3, group + 1, new byte[] { (byte)group, 1, 2 })] }
                : new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 3, Commit = group };
            sent.Add(new AddressedMessage(group, message));
            transport.Send(group, message);
        }

        await Eventually.TrueAsync(() => received.Messages.Count == sent.Count, "the peer received every message");
        Assert.Equal(
            sent.Select(m => $"g{m.GroupId} {MessageSamples.Describe(m.Message)}").Order(StringComparer.Ordinal),
            received.Messages.Select(m => $"g{m.GroupId} {MessageSamples.Describe(m.Message)}").Order(StringComparer.Ordinal));
        Assert.Equal(sent.Count, transport.MessagesSent);
        Assert.Equal(0, transport.MessagesDropped);
    }

    [Fact]
    public async Task A_message_to_a_node_missing_from_the_address_book_is_dropped_and_counted()
    {
        await using var transport = new RpcRaftTransport(1, new RaftPeers());

        transport.Send(1, new Message { Type = MessageType.Heartbeat, From = 1, To = 9, Term = 1 });

        Assert.Equal(1, transport.MessagesDropped);
    }

    [Fact]
    public async Task An_unreachable_peer_costs_dropped_messages_not_errors_and_is_reached_at_its_new_address()
    {
        var peers = new RaftPeers([new(2, new Uri("http://127.0.0.1:1"))]);
        await using var transport = new RpcRaftTransport(1, peers, _quickRetry);
        var heartbeat = new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 1 };

        await Eventually.TrueAsync(
            () =>
            {
                transport.Send(7, heartbeat);
                return transport.FailedBatches > 0 && transport.MessagesDropped > 0;
            },
            "sending to a closed port fails and drops");

        var received = new CollectingHandler();
        await using var server = await RaftTransportTestServer.StartAsync(received);
        peers.Set(2, server.Address);
        await Eventually.TrueAsync(
            () =>
            {
                transport.Send(7, heartbeat);
                return !received.Messages.IsEmpty;
            },
            "the peer is reached at its new address");
        Assert.Equal(7, received.Messages.First().GroupId);
    }

    [Fact]
    public void Invalid_options_and_addresses_say_what_to_change()
    {
        var options = Assert.Throws<ArgumentException>(() => new RpcRaftTransportOptions { MaxBatchBytes = 10, CallTimeout = TimeSpan.Zero }.Validate());
        Assert.Contains("MaxBatchBytes", options.Message, StringComparison.Ordinal);
        Assert.Contains("CallTimeout", options.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RaftPeers().Set(2, new Uri("ftp://host")));
    }
}
