using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Streams.Load.Nats;

/// <summary>
/// The JetStream API calls the comparison needs: requests to <c>$JS.API.*</c> subjects with JSON
/// bodies, whose replies are either the result or <c>{"error":{"code":..,"err_code":..,"description":..}}</c>.
/// </summary>
internal sealed partial class NatsConnection
{
    /// <summary>
    /// Sends a JetStream API request and returns its reply; an <c>error</c> reply becomes a
    /// <see cref="NatsJetStreamException"/> carrying the server's description.
    /// </summary>
    public async Task<JsonDocument> JetStreamRequestAsync(string subject, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(subject, body, timeout: null, cancellationToken);
        var document = JsonDocument.Parse(reply);
        if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
        {
            var exception = NatsJetStreamException.From(error, subject);
            document.Dispose();
            throw exception;
        }

        return document;
    }

    /// <summary>Creates a stream (<c>$JS.API.STREAM.CREATE.&lt;name&gt;</c>) and returns its state.</summary>
    public async Task<NatsStreamState> CreateStreamAsync(NatsStreamConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var reply = await JetStreamRequestAsync($"$JS.API.STREAM.CREATE.{config.Name}", config.ToJson(), cancellationToken);
        return NatsStreamState.From(reply.RootElement);
    }

    /// <summary>Deletes a stream and its messages (<c>$JS.API.STREAM.DELETE.&lt;name&gt;</c>).</summary>
    public async Task DeleteStreamAsync(string name, CancellationToken cancellationToken)
    {
        using var reply = await JetStreamRequestAsync($"$JS.API.STREAM.DELETE.{name}", ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    /// <summary>A stream's state (<c>$JS.API.STREAM.INFO.&lt;name&gt;</c>): message count, sequences, leader.</summary>
    public async Task<NatsStreamState> StreamInfoAsync(string name, CancellationToken cancellationToken)
    {
        using var reply = await JetStreamRequestAsync($"$JS.API.STREAM.INFO.{name}", ReadOnlyMemory<byte>.Empty, cancellationToken);
        return NatsStreamState.From(reply.RootElement);
    }

    /// <summary>
    /// Creates an ephemeral push consumer on <paramref name="stream"/> (ack policy none, flow
    /// control and idle heartbeats on) delivering to a fresh subject this connection subscribes;
    /// <paramref name="handler"/> sees each message on the reader loop, so it must be quick and
    /// copy what it keeps. <paramref name="startSequence"/> 0 delivers only messages published
    /// from now on, N &gt; 0 from stream sequence N.
    /// </summary>
    public async Task<NatsPushConsumer> CreatePushConsumerAsync(string stream, string? filterSubject, ulong startSequence, NatsDeliveryHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);

        // Its own random prefix, so deliveries never match the reply inbox's wildcard.
        var deliverSubject = $"_INBOX.{RandomToken()}";
        var consumer = new NatsPushConsumer(this, stream, deliverSubject, handler);

        // Subscribe before creating: the server pushes as soon as the consumer exists.
        consumer.Sid = Subscribe(deliverSubject, consumer);
        try
        {
            var body = NatsJetStreamJson.PushConsumerRequest(stream, deliverSubject, filterSubject, startSequence);
            using var reply = await JetStreamRequestAsync($"$JS.API.CONSUMER.CREATE.{stream}", body, cancellationToken);
            consumer.Name = reply.RootElement.TryGetProperty("name", out var name) ? name.GetString() ?? string.Empty : string.Empty;
            return consumer;
        }
        catch
        {
            Unsubscribe(consumer.Sid);
            throw;
        }
    }
}

/// <summary>The stream settings the comparison varies; everything else is the server's default.</summary>
/// <param name="Name">The stream's name.</param>
/// <param name="Subjects">The subjects it takes (wildcards allowed).</param>
/// <param name="Replicas">1, or 3 in a 3-server cluster.</param>
/// <param name="Storage"><c>file</c> (as compared against Streams) or <c>memory</c>.</param>
/// <param name="MaxBytes">A size limit (oldest messages go), or -1 for none.</param>
internal sealed record NatsStreamConfig(string Name, IReadOnlyList<string> Subjects, int Replicas = 1, string Storage = "file", long MaxBytes = -1)
{
    /// <summary>The body of <c>$JS.API.STREAM.CREATE</c>.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", Name);
            json.WriteStartArray("subjects");
            foreach (var subject in Subjects)
            {
                json.WriteStringValue(subject);
            }

            json.WriteEndArray();
            json.WriteString("retention", "limits");
            json.WriteString("storage", Storage);
            json.WriteNumber("num_replicas", Replicas);
            json.WriteNumber("max_bytes", MaxBytes);
            json.WriteNumber("max_msgs", -1);
            json.WriteNumber("max_age", 0);
            json.WriteString("discard", "old");
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>What <c>$JS.API.STREAM.INFO</c> (or CREATE) says about a stream.</summary>
/// <param name="Name">The stream's name.</param>
/// <param name="Messages">Messages stored.</param>
/// <param name="Bytes">Bytes stored.</param>
/// <param name="FirstSequence">The first stored sequence.</param>
/// <param name="LastSequence">The last stored sequence.</param>
/// <param name="Replicas">Its configured replica count.</param>
/// <param name="Leader">The server leading it in a cluster; empty for a single server.</param>
internal sealed record NatsStreamState(string Name, ulong Messages, ulong Bytes, ulong FirstSequence, ulong LastSequence, int Replicas, string Leader)
{
    /// <summary>Reads a stream info reply.</summary>
    public static NatsStreamState From(JsonElement root)
    {
        var config = root.GetProperty("config");
        var state = root.GetProperty("state");
        var leader = root.TryGetProperty("cluster", out var cluster) && cluster.TryGetProperty("leader", out var name) ? name.GetString() ?? string.Empty : string.Empty;
        return new NatsStreamState(
            config.GetProperty("name").GetString() ?? string.Empty,
            state.GetProperty("messages").GetUInt64(),
            state.GetProperty("bytes").GetUInt64(),
            state.GetProperty("first_seq").GetUInt64(),
            state.GetProperty("last_seq").GetUInt64(),
            config.TryGetProperty("num_replicas", out var replicas) ? replicas.GetInt32() : 1,
            leader);
    }
}

/// <summary>
/// Gets each message a push consumer delivers, on the connection's reader loop: quick, and
/// <paramref name="data"/> is valid only during the call.
/// </summary>
/// <param name="streamSequence">The message's sequence in the stream.</param>
/// <param name="consumerSequence">Its sequence in this consumer's deliveries (gapless if none were lost).</param>
/// <param name="data">The message's payload.</param>
internal delegate void NatsDeliveryHandler(ulong streamSequence, ulong consumerSequence, ReadOnlySequence<byte> data);

/// <summary>An ephemeral push consumer; disposing unsubscribes it and deletes it on the server.</summary>
internal sealed class NatsPushConsumer : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly NatsDeliveryHandler _handler;
    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _delivered;
    private long _flowControls;
    private long _heartbeats;
    private int _disposed;

    internal NatsPushConsumer(NatsConnection connection, string stream, string deliverSubject, NatsDeliveryHandler handler)
    {
        _connection = connection;
        _handler = handler;
        Stream = stream;
        DeliverSubject = deliverSubject;
    }

    /// <summary>The stream it reads.</summary>
    public string Stream { get; }

    /// <summary>The subject the server pushes to.</summary>
    public string DeliverSubject { get; }

    /// <summary>The consumer's name on the server.</summary>
    public string Name { get; internal set; } = string.Empty;

    /// <summary>Messages handed to the handler.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Flow control requests answered.</summary>
    public long FlowControls => Interlocked.Read(ref _flowControls);

    /// <summary>Idle heartbeats seen.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>
    /// Faults when delivery stops for good: the handler threw, the server sent a terminal status
    /// (such as 409 consumer deleted), or the connection closed.
    /// </summary>
    public Task Faulted => _faulted.Task;

    internal int Sid { get; set; }

    /// <summary>Unsubscribes and deletes the consumer (best effort: the server drops an unused ephemeral one anyway).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _connection.Unsubscribe(Sid);
        if (Name.Length == 0 || _connection.CloseReason is not null)
        {
            return;
        }

        try
        {
            using var reply = await _connection.JetStreamRequestAsync($"$JS.API.CONSUMER.DELETE.{Stream}.{Name}", ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NatsJetStreamException or TimeoutException or IOException or NatsNoRespondersException)
        {
            // Deleting is tidiness only: the stream's deletion or the inactivity threshold removes it too.
        }
    }

    internal void OnDelivery(ReadOnlySpan<byte> replyTo, ReadOnlySequence<byte> data)
    {
        NatsJetStreamJson.ParseAckSubject(replyTo, out var streamSequence, out var consumerSequence);
        Interlocked.Increment(ref _delivered);
        try
        {
            _handler(streamSequence, consumerSequence, data);
        }
#pragma warning disable CA1031 // The handler is the caller's code: its failure ends this consumer, never the connection's reader loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _faulted.TrySetException(ex);
        }
    }

    internal void OnControl(bool flowControl)
    {
        if (flowControl)
        {
            Interlocked.Increment(ref _flowControls);
        }
        else
        {
            Interlocked.Increment(ref _heartbeats);
        }
    }

    internal void OnStatus(int status) =>
        _faulted.TrySetException(new InvalidOperationException($"The push consumer {Name} on {Stream} got status {status.ToString(CultureInfo.InvariantCulture)} from the server."));

    internal void OnConnectionClosed(Exception reason) => _faulted.TrySetException(reason);
}

/// <summary>A JetStream API or PubAck error: <c>{"error":{"code":..,"err_code":..,"description":..}}</c>.</summary>
internal sealed class NatsJetStreamException : Exception
{
    /// <summary>Creates one from the error's fields.</summary>
    public NatsJetStreamException(int code, int errorCode, string description, string? subject)
        : base($"JetStream error {code.ToString(CultureInfo.InvariantCulture)} (err_code {errorCode.ToString(CultureInfo.InvariantCulture)}){(subject is null ? string.Empty : $" on '{subject}'")}: {description}")
    {
        Code = code;
        ErrorCode = errorCode;
        Description = description;
    }

    /// <summary>The HTTP-like status, such as 400, 404 or 503.</summary>
    public int Code { get; }

    /// <summary>JetStream's specific error number, such as 10058 (stream name already in use).</summary>
    public int ErrorCode { get; }

    /// <summary>The server's description.</summary>
    public string Description { get; }

    /// <summary>Reads the <c>error</c> object of a reply.</summary>
    public static NatsJetStreamException From(JsonElement error, string? subject) => new(
        error.TryGetProperty("code", out var code) && code.TryGetInt32(out var c) ? c : 0,
        error.TryGetProperty("err_code", out var errCode) && errCode.TryGetInt32(out var e) ? e : 0,
        error.TryGetProperty("description", out var description) ? description.GetString() ?? string.Empty : string.Empty,
        subject);
}

/// <summary>Reading and writing the JetStream JSON on the hot path without building documents.</summary>
internal static class NatsJetStreamJson
{
    /// <summary>
    /// Reads a PubAck: true with its <c>seq</c>, or false with the <c>error</c> as an exception.
    /// </summary>
    public static bool TryReadPubAck(ReadOnlySequence<byte> data, out ulong sequence, out NatsJetStreamException? error)
    {
        sequence = 0;
        error = null;
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A PubAck is a JSON object.");
        }

        var hasSequence = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                sequence = reader.GetUInt64();
                hasSequence = true;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = ReadError(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (error is not null)
        {
            return false;
        }

        if (!hasSequence)
        {
            throw new JsonException("A PubAck without seq or error.");
        }

        return true;
    }

    /// <summary>
    /// The stream and consumer sequences from a delivery's reply subject:
    /// <c>$JS.ACK.&lt;stream&gt;.&lt;consumer&gt;.&lt;delivered&gt;.&lt;sseq&gt;.&lt;cseq&gt;.&lt;ts&gt;.&lt;pending&gt;</c>
    /// (9 tokens), or the 12-token form with domain and account hash after <c>$JS.ACK</c>. Zeros
    /// when the subject has neither form.
    /// </summary>
    public static void ParseAckSubject(ReadOnlySpan<byte> subject, out ulong streamSequence, out ulong consumerSequence)
    {
        streamSequence = 0;
        consumerSequence = 0;
        Span<Range> tokens = stackalloc Range[13];
        var count = 0;
        var start = 0;
        for (var i = 0; i <= subject.Length && count < tokens.Length; i++)
        {
            if (i == subject.Length || subject[i] == (byte)'.')
            {
                tokens[count++] = start..i;
                start = i + 1;
            }
        }

        var offset = count switch
        {
            9 => 5,
            >= 12 => 7,
            _ => -1,
        };
        if (offset < 0)
        {
            return;
        }

        _ = System.Buffers.Text.Utf8Parser.TryParse(subject[tokens[offset]], out streamSequence, out _);
        _ = System.Buffers.Text.Utf8Parser.TryParse(subject[tokens[offset + 1]], out consumerSequence, out _);
    }

    /// <summary>The body of <c>$JS.API.CONSUMER.CREATE.&lt;stream&gt;</c> for an ephemeral push consumer.</summary>
    public static byte[] PushConsumerRequest(string stream, string deliverSubject, string? filterSubject, ulong startSequence)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("stream_name", stream);
            json.WriteStartObject("config");
            json.WriteString("deliver_subject", deliverSubject);
            if (startSequence == 0)
            {
                json.WriteString("deliver_policy", "new");
            }
            else
            {
                json.WriteString("deliver_policy", "by_start_sequence");
                json.WriteNumber("opt_start_seq", startSequence);
            }

            json.WriteString("ack_policy", "none");
            json.WriteString("replay_policy", "instant");
            if (filterSubject is not null)
            {
                json.WriteString("filter_subject", filterSubject);
            }

            // Flow control keeps a fast stream from overrunning a slower reader (the server would
            // otherwise cut it off as a slow consumer); it requires idle heartbeats (nanoseconds).
            json.WriteBoolean("flow_control", true);
            json.WriteNumber("idle_heartbeat", 5_000_000_000L);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static NatsJetStreamException ReadError(ref Utf8JsonReader reader)
    {
        var code = 0;
        var errorCode = 0;
        var description = string.Empty;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return new NatsJetStreamException(0, 0, "malformed error", null);
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                code = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("err_code"u8))
            {
                reader.Read();
                errorCode = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("description"u8))
            {
                reader.Read();
                description = reader.GetString() ?? string.Empty;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new NatsJetStreamException(code, errorCode, description, null);
    }
}
