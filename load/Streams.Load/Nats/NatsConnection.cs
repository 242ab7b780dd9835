using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks.Sources;

namespace Streams.Load.Nats;

/// <summary>Settings of a <see cref="NatsConnection"/>.</summary>
internal sealed record NatsConnectionOptions
{
    /// <summary>The client name the server shows in its monitoring (<c>/connz</c>).</summary>
    public string Name { get; init; } = "streams-load";

    /// <summary>How long connecting (TCP, INFO, CONNECT and the first PONG) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a publish may wait for its PubAck, and a JetStream API request for its reply,
    /// before it fails with a <see cref="TimeoutException"/>: a lost reply is an error, never a hang.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A minimal NATS client over one TCP connection, written for the load comparison with JetStream:
/// pipelined JetStream publishes (many in flight, many callers), JetStream API requests, and push
/// consumers. Writes from any thread go into one pipe under a lock and a writer loop sends them,
/// so concurrent publishes coalesce into few socket writes; one reader loop parses what the server
/// sends and completes the waiting publishes. Replies come back on one wildcard subscription
/// <c>_INBOX.&lt;random&gt;.*</c>, the last token being the request's number. The hot path
/// allocates nothing per publish: the awaitable is a pooled <see cref="IValueTaskSource{TResult}"/>
/// and the PubAck is read in place with <see cref="Utf8JsonReader"/>.
/// </summary>
/// <remarks>
/// Protocol as the NATS client protocol documents it: the server greets with <c>INFO {json}</c>;
/// the client sends <c>CONNECT {json}</c> (verbose and pedantic off; headers and no_responders on,
/// so a request nobody subscribes to is answered at once with an <c>HMSG</c> whose status line is
/// <c>NATS/1.0 503</c> instead of going unanswered); <c>PUB subject reply size</c>, <c>SUB subject
/// sid</c>, <c>MSG subject sid [reply] size</c>, <c>HMSG subject sid [reply] hsize tsize</c>,
/// <c>PING</c>/<c>PONG</c>, <c>+OK</c>, <c>-ERR</c>; every line ends in CRLF, and so does every payload.
/// </remarks>
internal sealed partial class NatsConnection : IAsyncDisposable
{
    /// <summary>The sid of the reply inbox subscription; consumers get 2, 3, ...</summary>
    private const int InboxSid = 1;

    /// <summary>A control line longer than this (without CRLF) is a broken stream, not a slow one.</summary>
    private const int MaxControlLine = 1024 * 1024;

    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly Pipe _output;
    private readonly Lock _writeGate = new();
    private readonly Lock _pendingGate = new();
    private readonly Dictionary<ulong, PendingReply> _pending = [];
    private readonly ConcurrentQueue<PublishReply> _publishPool = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _pongs = new();
    private readonly ConcurrentDictionary<int, NatsPushConsumer> _consumers = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _inboxPrefix;
    private readonly long _requestTimeoutTicks;
    private readonly Timer _sweeper;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Exception? _closedError;
    private string? _lastServerError;
    private long _nextId;
    private int _nextSid = InboxSid;
    private int _disposed;

    private NatsConnection(NetworkStream stream, PipeReader input, NatsServerInfo info, NatsConnectionOptions options)
    {
        _stream = stream;
        _input = input;
        ServerInfo = info;
        Options = options;

        // No pause threshold: FlushAsync then always completes synchronously, which is what lets
        // producers flush inside the write lock. Callers bound what they keep in flight.
        _output = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
        InboxPrefix = $"_INBOX.{RandomToken()}.";
        _inboxPrefix = Encoding.ASCII.GetBytes(InboxPrefix);
        _requestTimeoutTicks = (long)(options.RequestTimeout.TotalSeconds * Stopwatch.Frequency);
        var sweep = TimeSpan.FromMilliseconds(Math.Clamp(options.RequestTimeout.TotalMilliseconds / 10, 10, 250));
        _sweeper = new Timer(static state => ((NatsConnection)state!).SweepExpired(), this, sweep, sweep);
    }

    /// <summary>What the server said about itself in its INFO.</summary>
    public NatsServerInfo ServerInfo { get; }

    /// <summary>The settings it was opened with.</summary>
    public NatsConnectionOptions Options { get; }

    /// <summary>The prefix of this connection's reply subjects, <c>_INBOX.&lt;random&gt;.</c>.</summary>
    public string InboxPrefix { get; }

    /// <summary>Why the connection is closed, or null while it is open.</summary>
    public Exception? CloseReason => Volatile.Read(ref _closedError);

    /// <summary>Completes (with the reason) when the connection closes, for whatever cause.</summary>
    public Task<Exception> Closed => _closed.Task;

    /// <summary>Requests and publishes sent and not yet answered.</summary>
    public int PendingCount
    {
        get
        {
            lock (_pendingGate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Connects to <paramref name="url"/> (<c>nats://host:port</c>), reads the server's INFO,
    /// sends CONNECT, subscribes the reply inbox and waits for the PONG that shows the server
    /// accepted all of it.
    /// </summary>
    public static async Task<NatsConnection> ConnectAsync(Uri url, NatsConnectionOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new NatsConnectionOptions();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        NetworkStream? stream = null;
        PipeReader? input = null;
        NatsConnection? connection = null;
        try
        {
            await socket.ConnectAsync(url.Host, url.Port, timeout.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
            var info = await ReadInfoAsync(input, timeout.Token);
            connection = new NatsConnection(stream, input, info, options);
            connection.Start();
            await connection.HandshakeAsync(timeout.Token);
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await CleanUpAsync();
            throw new TimeoutException($"Could not connect to NATS at {url} within {options.ConnectTimeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            await CleanUpAsync();
            throw;
        }

        async Task CleanUpAsync()
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
                return;
            }

            if (input is not null)
            {
                await input.CompleteAsync();
            }

            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="data"/> to <paramref name="subject"/> with a reply subject of
    /// this connection's inbox and completes with the stream sequence from the JetStream PubAck
    /// (<c>{"stream":"S","seq":N}</c>). Fails with <see cref="NatsJetStreamException"/> for an
    /// error ack, <see cref="NatsNoRespondersException"/> when no stream takes the subject,
    /// <see cref="TimeoutException"/> after <see cref="NatsConnectionOptions.RequestTimeout"/>,
    /// and <see cref="NatsConnectionClosedException"/> if the connection closes first. Thread-safe;
    /// the returned ValueTask must be awaited exactly once.
    /// </summary>
    public ValueTask<ulong> PublishAsync(string subject, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ValidateSubject(subject);
        if (data.Length > ServerInfo.MaxPayload)
        {
            // The server would answer with -ERR 'Maximum Payload Violation' and close the
            // connection, failing every other publish in flight: refuse this one alone.
            throw new ArgumentException($"{data.Length} bytes exceed the server's max_payload of {ServerInfo.MaxPayload}.", nameof(data));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ulong>(cancellationToken);
        }

        if (!_publishPool.TryDequeue(out var reply))
        {
            reply = new PublishReply(this);
        }

        var id = (ulong)Interlocked.Increment(ref _nextId);
        reply.Begin(id, subject, Stopwatch.GetTimestamp() + _requestTimeoutTicks, Options.RequestTimeout);
        if (!TryAddPending(reply))
        {
            reply.Fail(CloseReason!);
            return new ValueTask<ulong>(reply, reply.Version);
        }

        if (cancellationToken.CanBeCanceled)
        {
            reply.Watch(cancellationToken);
        }

        try
        {
            lock (_writeGate)
            {
                AppendPub(subject, id, data.Span);
                FlushLocked();
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            if (TryTakePending(id) is { } taken)
            {
                taken.Fail(new NatsConnectionClosedException($"Could not write to the NATS connection: {ex.Message}", ex));
            }
        }

        return new ValueTask<ulong>(reply, reply.Version);
    }

    /// <summary>
    /// Sends a request and returns the reply's payload: the request/response pattern the JetStream
    /// API uses. Fails with <see cref="NatsNoRespondersException"/> when nothing subscribes to
    /// the subject and <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task<byte[]> RequestAsync(string subject, ReadOnlyMemory<byte> payload, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ValidateSubject(subject);
        var limit = timeout ?? Options.RequestTimeout;
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var reply = new RequestReply(id, subject, Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency), limit);
        if (!TryAddPending(reply))
        {
            throw CloseReason!;
        }

        using var registration = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (connection, id) = ((NatsConnection, ulong))state!;
            connection.TryTakePending(id)?.Fail(new OperationCanceledException(token));
        }, (this, id));
        lock (_writeGate)
        {
            AppendPub(subject, id, payload.Span);
            FlushLocked();
        }

        return await reply.Task;
    }

    /// <summary>Publishes without a reply subject and without waiting (core NATS, no PubAck).</summary>
    public void PublishNoReply(string subject, ReadOnlySpan<byte> data)
    {
        ValidateSubject(subject);
        ThrowIfClosed();
        lock (_writeGate)
        {
            AppendPub(subject, 0, data);
            FlushLocked();
        }
    }

    /// <summary>
    /// Sends PING and waits for its PONG: once it arrives, the server has processed everything this
    /// connection sent before it.
    /// </summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_writeGate)
        {
            ThrowIfClosed();
            _pongs.Enqueue(pong);
            AppendRaw("PING\r\n"u8);
            FlushLocked();
        }

        // Close() sets the reason before it drains the queue: a PING queued after the drain sees it.
        if (CloseReason is { } closed)
        {
            pong.TrySetException(closed);
        }

        await pong.Task.WaitAsync(Options.RequestTimeout, cancellationToken);
    }

    /// <summary>Closes the connection: pending publishes and requests fail, the loops end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Close(new NatsConnectionClosedException("The NATS connection was disposed."));
        await _sweeper.DisposeAsync();
        await Task.WhenAll(_readLoop, _writeLoop);
        await _output.Writer.CompleteAsync();
        await _stream.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>Subscribes <paramref name="subject"/> for <paramref name="consumer"/>; its deliveries go to it.</summary>
    internal int Subscribe(string subject, NatsPushConsumer consumer)
    {
        ValidateSubject(subject);
        var sid = Interlocked.Increment(ref _nextSid);
        _consumers[sid] = consumer;
        lock (_writeGate)
        {
            ThrowIfClosed();
            AppendRaw(Encoding.UTF8.GetBytes($"SUB {subject} {sid}\r\n"));
            FlushLocked();
        }

        return sid;
    }

    /// <summary>Ends the subscription <paramref name="sid"/>; no-op once the connection is closed.</summary>
    internal void Unsubscribe(int sid)
    {
        _consumers.TryRemove(sid, out _);
        lock (_writeGate)
        {
            if (CloseReason is not null)
            {
                return;
            }

            AppendRaw(Encoding.ASCII.GetBytes($"UNSUB {sid}\r\n"));
            FlushLocked();
        }
    }

    private static async Task<NatsServerInfo> ReadInfoAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var end = buffer.PositionOf((byte)'\n');
            if (end is { } newline)
            {
                var line = Encoding.UTF8.GetString(buffer.Slice(0, newline)).TrimEnd('\r');
                input.AdvanceTo(buffer.GetPosition(1, newline));
                if (!line.StartsWith("INFO ", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidDataException($"Expected the server's INFO, got: {Shorten(line)}");
                }

                return NatsServerInfo.Parse(line[5..]);
            }

            if (result.IsCompleted || buffer.Length > MaxControlLine)
            {
                throw new NatsConnectionClosedException("The server closed the connection before sending INFO.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static string RandomToken()
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);

        // Base64url without padding: subject-safe (no '.', '*', '>' or spaces).
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static void ValidateSubject(string subject)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        if (subject.AsSpan().IndexOfAny(" \t\r\n") >= 0)
        {
            throw new ArgumentException($"A NATS subject has no whitespace: '{subject}'.", nameof(subject));
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "...");

    private void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        if (!ServerInfo.Headers)
        {
            throw new NotSupportedException($"NATS server {ServerInfo.ServerName} {ServerInfo.Version} does not support headers, which no-responders errors need.");
        }

        var connect = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["verbose"] = false,
            ["pedantic"] = false,
            ["tls_required"] = false,
            ["name"] = Options.Name,
            ["lang"] = "csharp-streams-load",
            ["version"] = "0.1.0",
            ["protocol"] = 1,
            ["headers"] = true,
            ["no_responders"] = true,
            ["echo"] = true,
        });
        lock (_writeGate)
        {
            AppendRaw(Encoding.UTF8.GetBytes($"CONNECT {connect}\r\nSUB {InboxPrefix}* {InboxSid}\r\n"));
            FlushLocked();
        }

        // Errors in CONNECT come back as -ERR and a closed connection, which fails this PONG.
        await PingAsync(cancellationToken);
    }

    private bool TryAddPending(PendingReply reply)
    {
        lock (_pendingGate)
        {
            if (_closedError is not null)
            {
                return false;
            }

            _pending.Add(reply.Id, reply);
            return true;
        }
    }

    private PendingReply? TryTakePending(ulong id)
    {
        lock (_pendingGate)
        {
            return _pending.Remove(id, out var reply) ? reply : null;
        }
    }

    private void ReturnToPool(PublishReply reply) => _publishPool.Enqueue(reply);

    private void ThrowIfClosed()
    {
        if (CloseReason is { } reason)
        {
            throw new NatsConnectionClosedException($"The NATS connection is closed: {reason.Message}", reason);
        }
    }

    private void SweepExpired()
    {
        var now = Stopwatch.GetTimestamp();
        List<PendingReply>? expired = null;
        lock (_pendingGate)
        {
            foreach (var reply in _pending.Values)
            {
                if (reply.Deadline <= now)
                {
                    (expired ??= []).Add(reply);
                }
            }

            if (expired is null)
            {
                return;
            }

            foreach (var reply in expired)
            {
                _pending.Remove(reply.Id);
            }
        }

        foreach (var reply in expired)
        {
            reply.Fail(new TimeoutException($"No reply to the NATS request on '{reply.Subject}' within {reply.Timeout.TotalSeconds:0.###} s."));
        }
    }

    private void Close(Exception reason)
    {
        List<PendingReply> failed;
        lock (_pendingGate)
        {
            if (_closedError is not null)
            {
                return;
            }

            Volatile.Write(ref _closedError, reason);
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        _stop.Cancel();
        foreach (var reply in failed)
        {
            reply.Fail(reason);
        }

        while (_pongs.TryDequeue(out var pong))
        {
            pong.TrySetException(reason);
        }

        foreach (var consumer in _consumers.Values)
        {
            consumer.OnConnectionClosed(reason);
        }

        _closed.TrySetResult(reason);
    }

    // ---- writing (all under _writeGate) ----

    private void AppendRaw(ReadOnlySpan<byte> bytes) => _output.Writer.Write(bytes);

    /// <summary>Appends <c>PUB subject [inbox.id] size\r\n data \r\n</c>; id 0 means no reply subject.</summary>
    private void AppendPub(string subject, ulong replyId, ReadOnlySpan<byte> data)
    {
        var writer = _output.Writer;
        var span = writer.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(subject.Length) + 1 + _inboxPrefix.Length + 20 + 1 + 11 + 2);
        "PUB "u8.CopyTo(span);
        var n = 4;
        n += Encoding.UTF8.GetBytes(subject, span[n..]);
        span[n++] = (byte)' ';
        if (replyId != 0)
        {
            _inboxPrefix.CopyTo(span[n..]);
            n += _inboxPrefix.Length;
            Utf8Formatter.TryFormat(replyId, span[n..], out var idLength);
            n += idLength;
            span[n++] = (byte)' ';
        }

        Utf8Formatter.TryFormat(data.Length, span[n..], out var sizeLength);
        n += sizeLength;
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        writer.Advance(n);
        if (!data.IsEmpty)
        {
            writer.Write(data);
        }

        writer.Write("\r\n"u8);
    }

    /// <summary>Appends <c>PUB subject 0</c> for a subject given as bytes (answers to flow control).</summary>
    private void AppendEmptyPub(ReadOnlySpan<byte> subject)
    {
        var writer = _output.Writer;
        writer.Write("PUB "u8);
        writer.Write(subject);
        writer.Write(" 0\r\n\r\n"u8);
    }

    private void FlushLocked()
    {
        // Never pauses (pauseWriterThreshold 0), so this is synchronous: it only wakes the writer loop.
        var flush = _output.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("The NATS output pipe paused a flush, which its options rule out.");
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    await _stream.WriteAsync(segment, _stop.Token);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Closing: the reason is already set.
        }
#pragma warning disable CA1031 // Any failure to write ends the connection; the reason goes to every waiter.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Close(new NatsConnectionClosedException($"Writing to the NATS server failed: {ex.Message}", ex));
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    // ---- reading (only the reader loop) ----

    private async Task ReadLoopAsync()
    {
        Exception? reason = null;
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                var consumed = ProcessBuffer(buffer);
                if (result.IsCompleted)
                {
                    var last = Volatile.Read(ref _lastServerError);
                    reason = new NatsConnectionClosedException(last is null
                        ? "The NATS server closed the connection."
                        : $"The NATS server closed the connection after -ERR {last}.");
                    return;
                }

                _input.AdvanceTo(consumed, buffer.End);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Closing: the reason is already set.
        }
#pragma warning disable CA1031 // Any failure to read or parse ends the connection; the reason goes to every waiter.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            reason = new NatsConnectionClosedException($"Reading from the NATS server failed: {ex.Message}", ex);
        }
        finally
        {
            await _input.CompleteAsync();
            if (reason is not null)
            {
                Close(reason);
            }
        }
    }

    private SequencePosition ProcessBuffer(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (!reader.End)
        {
            var before = reader.Consumed;
            if (!TryProcessOne(ref reader))
            {
                // Incomplete: leave the partial operation for the next read.
                reader.Rewind(reader.Consumed - before);
                break;
            }
        }

        return reader.Position;
    }

    private bool TryProcessOne(ref SequenceReader<byte> reader)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> lineBytes, "\r\n"u8))
        {
            if (reader.Remaining > MaxControlLine)
            {
                throw new InvalidDataException("The NATS server sent a control line without CRLF.");
            }

            return false;
        }

        if (lineBytes.IsSingleSegment)
        {
            return Dispatch(lineBytes.FirstSpan, ref reader);
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)lineBytes.Length);
        try
        {
            lineBytes.CopyTo(rented);
            return Dispatch(rented.AsSpan(0, (int)lineBytes.Length), ref reader);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private bool Dispatch(ReadOnlySpan<byte> line, ref SequenceReader<byte> reader)
    {
        if (StartsWith(line, "MSG "u8))
        {
            return OnMsg(line[4..], headers: false, ref reader);
        }

        if (StartsWith(line, "HMSG "u8))
        {
            return OnMsg(line[5..], headers: true, ref reader);
        }

        if (StartsWith(line, "PING"u8))
        {
            lock (_writeGate)
            {
                AppendRaw("PONG\r\n"u8);
                FlushLocked();
            }
        }
        else if (StartsWith(line, "PONG"u8))
        {
            if (_pongs.TryDequeue(out var pong))
            {
                pong.TrySetResult();
            }
        }
        else if (StartsWith(line, "-ERR"u8))
        {
            // Most -ERRs are followed by the server closing the connection; the text says why.
            Volatile.Write(ref _lastServerError, Encoding.UTF8.GetString(line[4..]).Trim());
        }

        // +OK (verbose is off, so rare) and INFO updates (cluster topology) need nothing.
        return true;
    }

    /// <summary>
    /// Handles <c>MSG subject sid [reply] size</c> or <c>HMSG subject sid [reply] hsize tsize</c>;
    /// false when the payload has not fully arrived.
    /// </summary>
    private bool OnMsg(ReadOnlySpan<byte> args, bool headers, ref SequenceReader<byte> reader)
    {
        Span<Range> parts = stackalloc Range[6];
        var count = Tokenize(args, parts);
        var expected = headers ? 4 : 3;
        if (count != expected && count != expected + 1)
        {
            throw new InvalidDataException($"Malformed {(headers ? "HMSG" : "MSG")} line: {Encoding.UTF8.GetString(args)}");
        }

        var subject = args[parts[0]];
        var sid = ParseInt(args[parts[1]]);
        var replyTo = count == expected + 1 ? args[parts[2]] : [];
        var total = ParseInt(args[parts[count - 1]]);
        var headerSize = headers ? ParseInt(args[parts[count - 2]]) : 0;
        if (reader.Remaining < total + 2L)
        {
            return false;
        }

        var payload = reader.UnreadSequence.Slice(0, total);
        reader.Advance(total + 2L);
        var status = headerSize > 0 ? ParseStatus(payload.Slice(0, headerSize)) : 0;
        var data = payload.Slice(headerSize);
        if (sid == InboxSid)
        {
            OnReply(subject, data, status);
        }
        else if (_consumers.TryGetValue(sid, out var consumer))
        {
            if (status == 100)
            {
                // Idle heartbeat (no reply subject) or flow control request (answered with an
                // empty message to its reply subject, which lets the server send on).
                if (!replyTo.IsEmpty)
                {
                    lock (_writeGate)
                    {
                        AppendEmptyPub(replyTo);
                        FlushLocked();
                    }
                }

                consumer.OnControl(flowControl: !replyTo.IsEmpty);
            }
            else if (status != 0)
            {
                consumer.OnStatus(status);
            }
            else
            {
                consumer.OnDelivery(replyTo, data);
            }
        }

        return true;
    }

    private void OnReply(ReadOnlySpan<byte> subject, ReadOnlySequence<byte> data, int status)
    {
        if (!subject.StartsWith(_inboxPrefix)
            || !Utf8Parser.TryParse(subject[_inboxPrefix.Length..], out ulong id, out var used)
            || used != subject.Length - _inboxPrefix.Length)
        {
            return;
        }

        // Whoever takes the entry out of the table completes it: a reply that comes after its
        // timeout or cancellation finds nothing and is dropped.
        TryTakePending(id)?.Complete(data, status);
    }

    private static int Tokenize(ReadOnlySpan<byte> text, Span<Range> parts)
    {
        var count = 0;
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == (byte)' ' || text[i] == (byte)'\t'))
            {
                i++;
            }

            if (i == text.Length)
            {
                break;
            }

            var start = i;
            while (i < text.Length && text[i] != (byte)' ' && text[i] != (byte)'\t')
            {
                i++;
            }

            if (count == parts.Length)
            {
                return count + 1;
            }

            parts[count++] = start..i;
        }

        return count;
    }

    private static int ParseInt(ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(text, out int value, out var used) || used != text.Length || value < 0)
        {
            throw new InvalidDataException($"Expected a count in the NATS protocol, got '{Encoding.UTF8.GetString(text)}'.");
        }

        return value;
    }

    /// <summary>The status code of a header block's first line, <c>NATS/1.0 503</c>; 0 if none.</summary>
    private static int ParseStatus(ReadOnlySequence<byte> headers)
    {
        Span<byte> first = stackalloc byte[16];
        var length = (int)Math.Min(headers.Length, first.Length);
        headers.Slice(0, length).CopyTo(first);
        first = first[..length];
        if (!first.StartsWith("NATS/1.0 "u8) || first.Length < 12)
        {
            return 0;
        }

        return Utf8Parser.TryParse(first.Slice(9, 3), out int status, out var used) && used == 3 ? status : 0;
    }

    private static bool StartsWith(ReadOnlySpan<byte> line, ReadOnlySpan<byte> op) =>
        line.Length >= op.Length && Ascii.EqualsIgnoreCase(line[..op.Length], op);

    /// <summary>A request waiting for its reply in the pending table.</summary>
    private abstract class PendingReply
    {
        public ulong Id { get; protected set; }

        public string Subject { get; protected set; } = string.Empty;

        public long Deadline { get; protected set; }

        public TimeSpan Timeout { get; protected set; }

        /// <summary>The reply arrived (on the reader loop; <paramref name="data"/> is valid only during the call).</summary>
        public abstract void Complete(ReadOnlySequence<byte> data, int status);

        public abstract void Fail(Exception error);
    }

    /// <summary>A plain request: the reply payload is copied out.</summary>
    private sealed class RequestReply : PendingReply
    {
        private readonly TaskCompletionSource<byte[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RequestReply(ulong id, string subject, long deadline, TimeSpan timeout)
        {
            Id = id;
            Subject = subject;
            Deadline = deadline;
            Timeout = timeout;
        }

        public Task<byte[]> Task => _completion.Task;

        public override void Complete(ReadOnlySequence<byte> data, int status)
        {
            if (status == 503)
            {
                _completion.TrySetException(new NatsNoRespondersException(Subject));
            }
            else
            {
                _completion.TrySetResult(data.ToArray());
            }
        }

        public override void Fail(Exception error) => _completion.TrySetException(error);
    }

    /// <summary>
    /// A JetStream publish waiting for its PubAck: pooled, awaited through its
    /// <see cref="ManualResetValueTaskSourceCore{TResult}"/>, back in the pool after the caller's
    /// await has read the result.
    /// </summary>
    private sealed class PublishReply(NatsConnection owner) : PendingReply, IValueTaskSource<ulong>
    {
        private ManualResetValueTaskSourceCore<ulong> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _registration;
        private CancellationToken _token;

        public short Version => _core.Version;

        public void Begin(ulong id, string subject, long deadline, TimeSpan timeout)
        {
            Id = id;
            Subject = subject;
            Deadline = deadline;
            Timeout = timeout;
        }

        public void Watch(CancellationToken token)
        {
            _token = token;
            _registration = token.UnsafeRegister(static state =>
            {
                var reply = (PublishReply)state!;
                reply.Cancel();
            }, this);
        }

        public override void Complete(ReadOnlySequence<byte> data, int status)
        {
            if (status == 503)
            {
                _core.SetException(new NatsNoRespondersException(Subject));
                return;
            }

            try
            {
                if (NatsJetStreamJson.TryReadPubAck(data, out var sequence, out var error))
                {
                    _core.SetResult(sequence);
                }
                else
                {
                    _core.SetException(new NatsJetStreamException(error!.Code, error.ErrorCode, error.Description, Subject));
                }
            }
            catch (JsonException ex)
            {
                _core.SetException(new InvalidDataException($"Unreadable PubAck for '{Subject}': {ex.Message}", ex));
            }
        }

        public override void Fail(Exception error) => _core.SetException(error);

        public ulong GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                // Dispose waits for a cancellation callback that is running, so once it returns
                // nothing else touches this object and it can serve the next publish.
                _registration.Dispose();
                _registration = default;
                _token = default;
                Subject = string.Empty;
                _core.Reset();
                owner.ReturnToPool(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void Cancel()
        {
            if (owner.TryTakePending(Id) is not null)
            {
                _core.SetException(new OperationCanceledException(_token));
            }
        }
    }
}

/// <summary>The fields of the server's INFO the load harness uses.</summary>
/// <param name="ServerId">The server's unique id.</param>
/// <param name="ServerName">Its <c>server_name</c> (n1, n2, ...).</param>
/// <param name="Version">Its version, such as 2.9.10.</param>
/// <param name="MaxPayload">The largest message it takes, in bytes.</param>
/// <param name="Headers">Whether it supports headers (HPUB/HMSG).</param>
/// <param name="JetStream">Whether JetStream is on.</param>
internal sealed record NatsServerInfo(string ServerId, string ServerName, string Version, int MaxPayload, bool Headers, bool JetStream)
{
    /// <summary>Reads the JSON after <c>INFO </c>.</summary>
    public static NatsServerInfo Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new NatsServerInfo(
            Text(root, "server_id"),
            Text(root, "server_name"),
            Text(root, "version"),
            root.TryGetProperty("max_payload", out var max) && max.TryGetInt32(out var maxPayload) ? maxPayload : 1024 * 1024,
            root.TryGetProperty("headers", out var headers) && headers.ValueKind == JsonValueKind.True,
            root.TryGetProperty("jetstream", out var jetStream) && jetStream.ValueKind == JsonValueKind.True);

        static string Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Empty;
    }
}

/// <summary>The connection closed (the server hung up, a read or write failed, or it was disposed).</summary>
internal sealed class NatsConnectionClosedException : IOException
{
    /// <summary>Creates one with a message.</summary>
    public NatsConnectionClosedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates one with a message and its cause.</summary>
    public NatsConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Nothing subscribes to the subject a request went to: the server answered with status 503. For a
/// JetStream publish that means no stream takes the subject; for <c>$JS.API.*</c>, no JetStream.
/// </summary>
internal sealed class NatsNoRespondersException : Exception
{
    /// <summary>Creates one for <paramref name="subject"/>.</summary>
    public NatsNoRespondersException(string subject)
        : base($"No responders on '{subject}' (status 503): no JetStream stream takes this subject, or for $JS.API requests JetStream is not enabled.")
    {
        Subject = subject;
    }

    /// <summary>The subject nobody listens on.</summary>
    public string Subject { get; }
}
