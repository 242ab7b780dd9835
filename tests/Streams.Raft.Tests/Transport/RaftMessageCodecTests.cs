using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Streams.Raft.Messages;
using Streams.Raft.Transport;
using Streams.Raft.Transport.V1;

namespace Streams.Raft.Tests.Transport;

public sealed class RaftMessageCodecTests
{
    [Fact]
    public void Any_message_survives_the_wire_form_and_back()
    {
        Prop.ForAll(MessageSamples.Messages.ToArbitrary(), message =>
        {
            var bytes = RaftMessageCodec.ToProto(message).ToByteArray();
            var decoded = RaftMessageCodec.FromProto(RaftMessage.Parser.ParseFrom(bytes));
            return MessageSamples.Describe(decoded) == MessageSamples.Describe(message);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Heartbeats_for_many_groups_to_one_node_travel_in_the_compact_form_and_decode_back_to_the_same_messages()
    {
        const int groups = 100;
        var messages = new List<AddressedMessage>();
        for (var group = 1; group <= groups; group++)
        {
            messages.Add(new(group, new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = group, Commit = group * 10, Index = group % 3 }));
        }

        var batch = RaftMessageCodec.EncodeBatch(1, 2, messages.ToArray());

        Assert.Empty(batch.Messages);
        Assert.Equal(groups, batch.Heartbeats.Count);
        Assert.Empty(batch.HeartbeatResponses);
        var full = new RaftBatch { FromNode = 1, ToNode = 2 };
        full.Messages.AddRange(messages.Select(m => new GroupMessage { Group = m.GroupId, Message = RaftMessageCodec.ToProto(m.Message) }));
        Assert.True(batch.CalculateSize() < full.CalculateSize() * 2 / 3, $"compact {batch.CalculateSize()} bytes vs full {full.CalculateSize()} bytes");
        Assert.Equal(Describe(messages), Describe(RoundTrip(batch)));
    }

    [Fact]
    public void Heartbeat_responses_are_coalesced_and_heartbeats_carrying_a_read_context_are_not()
    {
        AddressedMessage[] messages =
        [
            new(7, new Message { Type = MessageType.HeartbeatResponse, From = 3, To = 1, Term = 4, Index = 2 }),
            new(8, new Message { Type = MessageType.Heartbeat, From = 3, To = 1, Term = 5, Commit = 9, Index = 1, Context = new byte[] { 1, 2 } }),
            new(9, new Message { Type = MessageType.HeartbeatResponse, From = 3, To = 1, Term = 6, Reject = true }),
            new(10, new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 5 }),
        ];

        var batch = RaftMessageCodec.EncodeBatch(3, 1, messages);

        Assert.Equal([7L], batch.HeartbeatResponses.Select(h => h.Group));
        Assert.Empty(batch.Heartbeats);
        Assert.Equal([8L, 9L, 10L], batch.Messages.Select(m => m.Group));
        Assert.Equal(Describe(messages).Order(StringComparer.Ordinal), Describe(RoundTrip(batch)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Any_batch_between_two_nodes_decodes_to_the_same_messages_with_the_order_of_the_full_form_ones_kept()
    {
        var heartbeats =
            from type in Gen.Elements(MessageType.Heartbeat, MessageType.HeartbeatResponse)
            from term in MessageSamples.Numbers
            from commit in MessageSamples.Numbers
            from index in MessageSamples.Numbers
            select new Message { Type = type, From = 1, To = 2, Term = term, Commit = commit, Index = index };
        var anyMessage = MessageSamples.Messages.Select(m => m with { From = 1, To = 2 });
        var addressed =
            from groupId in Gen.Choose(1, 5)
            from message in Gen.Frequency((1, anyMessage), (2, heartbeats))
            select new AddressedMessage(groupId, message);

        Prop.ForAll(Gen.ArrayOf(addressed).ToArbitrary(), messages =>
        {
            var batch = RaftMessageCodec.EncodeBatch(1, 2, messages);
            var decoded = RoundTrip(RaftBatch.Parser.ParseFrom(batch.ToByteArray()));
            var sameMessages = Describe(messages).Order(StringComparer.Ordinal).SequenceEqual(Describe(decoded).Order(StringComparer.Ordinal));
            var orderKept = Describe(messages.Where(m => !IsHeartbeat(m.Message))).SequenceEqual(Describe(decoded.Where(m => !IsHeartbeat(m.Message))));
            return sameMessages && orderKept;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_malformed_message_is_skipped_not_the_batch()
    {
        var batch = new RaftBatch { FromNode = 1, ToNode = 2 };
        batch.Messages.Add(new GroupMessage { Group = 1, Message = new RaftMessage { Type = (RaftMessageType)99, From = 1, To = 2 } });
        batch.Messages.Add(new GroupMessage { Group = 2, Message = new RaftMessage { Type = RaftMessageType.Append, From = 1, To = 2, Entries = { new RaftEntry { Term = 0, Index = 1 } } } });
        batch.Messages.Add(new GroupMessage { Group = 3, Message = new RaftMessage { Type = RaftMessageType.Vote, From = 1, To = 2, Term = 3 } });
        var received = new CollectingHandler();

        var malformed = RaftMessageCodec.DecodeBatch(batch, received);

        Assert.Equal(2, malformed);
        Assert.Equal([3L], received.Messages.Select(m => m.GroupId));
    }

    private static bool IsHeartbeat(Message message) =>
        message.Type is MessageType.Heartbeat or MessageType.HeartbeatResponse;

    private static List<AddressedMessage> RoundTrip(RaftBatch batch)
    {
        var handler = new CollectingHandler();
        Assert.Equal(0, RaftMessageCodec.DecodeBatch(batch, handler));
        return [.. handler.Messages];
    }

    private static IEnumerable<string> Describe(IEnumerable<AddressedMessage> messages) =>
        messages.Select(m => $"g{m.GroupId} {MessageSamples.Describe(m.Message)}");
}
