using Google.Protobuf;
using Streams.Raft.Membership;
using Streams.Raft.Messages;
using Streams.Raft.Storage;
using Streams.Raft.Transport.V1;

namespace Streams.Raft.Transport;

/// <summary>
/// Converts Raft messages to and from their wire form (<c>streams.raft.v1</c>). Payloads are not
/// copied on the way out (the proto wraps the entry's memory) nor on the way in (the entry keeps
/// the parsed bytes).
/// </summary>
/// <remarks>
/// In a batch, heartbeats and heartbeat responses whose context is empty and which use no other
/// field take the compact <see cref="CoalescedHeartbeat"/> form (group, term, commit, read round),
/// since their sender and receiver are the batch's. Decoding yields the same messages: first the
/// full-form ones in their order, then the heartbeats, then the responses, each in their order.
/// Raft tolerates that reordering.
/// </remarks>
public static class RaftMessageCodec
{
    /// <summary>The wire form of <paramref name="message"/>.</summary>
    /// <param name="message">The message.</param>
    public static RaftMessage ToProto(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var proto = new RaftMessage
        {
            Type = (RaftMessageType)(int)message.Type,
            From = message.From,
            To = message.To,
            Term = message.Term,
            LogTerm = message.LogTerm,
            Index = message.Index,
            Commit = message.Commit,
            Reject = message.Reject,
            RejectHint = message.RejectHint,
            Transfer = message.Transfer,
            ChunkOffset = message.ChunkOffset,
        };
        if (!message.Context.IsEmpty)
        {
            proto.Context = UnsafeByteOperations.UnsafeWrap(message.Context);
        }

        var entries = message.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            proto.Entries.Add(new RaftEntry
            {
                Term = entry.Term,
                Index = entry.Index,
                Type = (RaftEntryType)(int)entry.Type,
                Data = UnsafeByteOperations.UnsafeWrap(entry.Data),
            });
        }

        if (message.Chunk is { } chunk)
        {
            proto.Chunk = new RaftSnapshotChunk
            {
                Metadata = ToProto(chunk.Metadata),
                TotalBytes = chunk.TotalBytes,
                Offset = chunk.Offset,
                Data = UnsafeByteOperations.UnsafeWrap(chunk.Data),
            };
        }

        return proto;
    }

    /// <summary>The message <paramref name="proto"/> stands for.</summary>
    /// <param name="proto">The wire form.</param>
    /// <exception cref="FormatException">The wire form is not a valid message (unknown type, invalid entry).</exception>
    public static Message FromProto(RaftMessage proto)
    {
        ArgumentNullException.ThrowIfNull(proto);
        var type = (MessageType)(int)proto.Type;
        if (!Enum.IsDefined(type))
        {
            throw new FormatException($"Unknown Raft message type {(int)proto.Type}.");
        }

        IReadOnlyList<Entry> entries = [];
        if (proto.Entries.Count > 0)
        {
            var array = new Entry[proto.Entries.Count];
            for (var i = 0; i < array.Length; i++)
            {
                array[i] = FromProto(proto.Entries[i]);
            }

            entries = array;
        }

        SnapshotChunk? chunk = null;
        if (proto.Chunk is { } c)
        {
            chunk = new SnapshotChunk(FromProto(c.Metadata), c.TotalBytes, c.Offset, c.Data.Memory);
        }

        return new Message
        {
            Type = type,
            From = proto.From,
            To = proto.To,
            Term = proto.Term,
            LogTerm = proto.LogTerm,
            Index = proto.Index,
            Entries = entries,
            Commit = proto.Commit,
            Reject = proto.Reject,
            RejectHint = proto.RejectHint,
            Transfer = proto.Transfer,
            Context = proto.Context.Memory,
            Chunk = chunk,
            ChunkOffset = proto.ChunkOffset,
        };
    }

    /// <summary>
    /// Encodes everything queued from <paramref name="fromNode"/> to <paramref name="toNode"/>
    /// into one batch, heartbeats and their responses in the compact form where they allow it.
    /// </summary>
    /// <param name="fromNode">The sending node.</param>
    /// <param name="toNode">The receiving node.</param>
    /// <param name="messages">The messages, each with its group.</param>
    public static RaftBatch EncodeBatch(long fromNode, long toNode, ReadOnlySpan<AddressedMessage> messages)
    {
        var batch = new RaftBatch { FromNode = fromNode, ToNode = toNode };
        foreach (var (groupId, message) in messages)
        {
            if (IsCoalescible(message, fromNode, toNode))
            {
                var compact = new CoalescedHeartbeat { Group = groupId, Term = message.Term, Commit = message.Commit, Index = message.Index };
                (message.Type == MessageType.Heartbeat ? batch.Heartbeats : batch.HeartbeatResponses).Add(compact);
            }
            else
            {
                batch.Messages.Add(new GroupMessage { Group = groupId, Message = ToProto(message) });
            }
        }

        return batch;
    }

    /// <summary>
    /// Decodes <paramref name="batch"/> and hands every message to <paramref name="handler"/>:
    /// full-form messages first, then heartbeats, then heartbeat responses, each in batch order.
    /// A message that does not decode is skipped, not the batch.
    /// </summary>
    /// <param name="batch">The batch received.</param>
    /// <param name="handler">Takes each message.</param>
    /// <returns>How many messages were skipped as malformed.</returns>
    public static int DecodeBatch(RaftBatch batch, IRaftMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(handler);
        var malformed = 0;
        foreach (var groupMessage in batch.Messages)
        {
            Message message;
            try
            {
                message = FromProto(groupMessage.Message ?? throw new FormatException("A group message carries no message."));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                malformed++;
                continue;
            }

            handler.Deliver(groupMessage.Group, message);
        }

        foreach (var heartbeat in batch.Heartbeats)
        {
            handler.Deliver(heartbeat.Group, FromCoalesced(MessageType.Heartbeat, heartbeat, batch));
        }

        foreach (var response in batch.HeartbeatResponses)
        {
            handler.Deliver(response.Group, FromCoalesced(MessageType.HeartbeatResponse, response, batch));
        }

        return malformed;
    }

    /// <summary>
    /// True when <paramref name="message"/> can travel in the compact form: a heartbeat or
    /// heartbeat response between the batch's two nodes with an empty context (no read waiting on
    /// it) and no field beyond term, commit and read round.
    /// </summary>
    internal static bool IsCoalescible(Message message, long fromNode, long toNode) =>
        message.Type is MessageType.Heartbeat or MessageType.HeartbeatResponse
        && message.From == fromNode
        && message.To == toNode
        && message.Context.IsEmpty
        && message.LogTerm == 0
        && message.Entries.Count == 0
        && !message.Reject
        && message.RejectHint == 0
        && !message.Transfer
        && message.Chunk is null
        && message.ChunkOffset == 0;

    /// <summary>A rough size of <paramref name="message"/> on the wire, for batch size limits.</summary>
    internal static long ApproximateSizeBytes(Message message)
    {
        long size = 64 + message.Context.Length;
        var entries = message.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            size += entries[i].Data.Length + 32;
        }

        if (message.Chunk is { } chunk)
        {
            size += chunk.Data.Length + 64 + (8 * (chunk.Metadata.ConfState.Voters.Count + chunk.Metadata.ConfState.Learners.Count));
        }

        return size;
    }

    private static Message FromCoalesced(MessageType type, CoalescedHeartbeat heartbeat, RaftBatch batch) => new()
    {
        Type = type,
        From = batch.FromNode,
        To = batch.ToNode,
        Term = heartbeat.Term,
        Commit = heartbeat.Commit,
        Index = heartbeat.Index,
    };

    private static RaftSnapshotMetadata ToProto(SnapshotMetadata metadata)
    {
        var conf = new RaftConfState();
        conf.Voters.AddRange(metadata.ConfState.Voters);
        conf.Learners.AddRange(metadata.ConfState.Learners);
        return new RaftSnapshotMetadata { Index = metadata.Index, Term = metadata.Term, ConfState = conf };
    }

    private static SnapshotMetadata FromProto(RaftSnapshotMetadata? metadata)
    {
        if (metadata is null)
        {
            throw new FormatException("A snapshot chunk carries no metadata.");
        }

        var conf = metadata.ConfState is { } c ? new ConfState(c.Voters, c.Learners) : ConfState.Empty;
        return new SnapshotMetadata(metadata.Index, metadata.Term, conf);
    }

    private static Entry FromProto(RaftEntry entry)
    {
        var type = (EntryType)(int)entry.Type;
        if (!Enum.IsDefined(type))
        {
            throw new FormatException($"Unknown entry type {(int)entry.Type} at index {entry.Index}.");
        }

        if (entry.Term < 1 || entry.Index < 1)
        {
            throw new FormatException($"Invalid entry {entry.Index}@{entry.Term}: index and term start at 1.");
        }

        return new Entry(entry.Term, entry.Index, entry.Data.Memory, type);
    }
}
