using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Streams.Cluster.Tests.Firehose;

/// <summary>An object PUT the proxy holds: its headers and part of its body went through, the rest waits.</summary>
/// <param name="Connection">The proxy's number for the TCP connection.</param>
/// <param name="Bucket">The bucket, from the path.</param>
/// <param name="Key">The object key, unescaped.</param>
/// <param name="ContentLength">The body's length as the request announced it.</param>
/// <param name="BodyBytesForwarded">How much of the body reached the server.</param>
internal sealed record HeldPut(int Connection, string Bucket, string Key, long ContentLength, long BodyBytesForwarded);

/// <summary>An object PUT seen by the proxy: whole when its body went through to its last byte.</summary>
internal sealed record ProxiedPut(int Connection, string Key, long ContentLength, bool Whole, TimeSpan At);

/// <summary>
/// An HTTP/1.1 relay between the nodes and s3rver, on 127.0.0.1:0, that reads request framing
/// (request line, headers, Content-Length) to see each object PUT go by. It can hold the next
/// object PUT under a prefix: forward its headers and half its body, then stop and tell the test,
/// which later drops it (both sides reset: s3rver never sees the rest) or releases it. It can also
/// pause: reset every connection and refuse new ones. Responses are relayed byte for byte, so an
/// <c>Expect: 100-continue</c> exchange passes through unchanged.
/// </summary>
internal sealed class S3Proxy : IAsyncDisposable
{
    private const int MaxHeaderBytes = 64 * 1024;
    private static readonly byte[] _headerEnd = "\r\n\r\n"u8.ToArray();

    private readonly Lock _lock = new();
    private readonly List<ProxiedPut> _puts = [];
    private readonly System.Diagnostics.Stopwatch _clock;
    private readonly Action<string> _log;
    private readonly TcpRelay _relay;
    private (string Prefix, TaskCompletionSource<HeldPut> Held)? _armed;
    private (HeldPut Put, TaskCompletionSource<bool> Decision)? _held;

    /// <summary>A proxy to <paramref name="target"/>, listening at once.</summary>
    /// <param name="target">s3rver's endpoint (http://127.0.0.1:port).</param>
    /// <param name="clock">Stamps <see cref="Puts"/>.</param>
    /// <param name="log">Where to note holds, drops and pauses.</param>
    public S3Proxy(Uri target, System.Diagnostics.Stopwatch clock, Action<string> log)
    {
        _clock = clock;
        _log = log;
        _relay = new TcpRelay(target, RelayAsync);
    }

    /// <summary>Where the nodes send their S3 requests, <c>http://127.0.0.1:port</c>.</summary>
    public Uri Endpoint => _relay.Address;

    /// <summary>Every object PUT seen so far, in the order their headers arrived.</summary>
    public IReadOnlyList<ProxiedPut> Puts
    {
        get
        {
            lock (_lock)
            {
                return [.. _puts];
            }
        }
    }

    /// <summary>
    /// Holds the next object PUT whose key starts with <paramref name="keyPrefix"/> (and whose body
    /// has at least 2 bytes): the returned task completes once half its body has gone through.
    /// </summary>
    public Task<HeldPut> HoldNextPut(string keyPrefix)
    {
        var held = new TaskCompletionSource<HeldPut>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_armed is not null || _held is not null)
            {
                throw new InvalidOperationException("A PUT is already held or about to be.");
            }

            _armed = (keyPrefix, held);
        }

        return held.Task;
    }

    /// <summary>Resets both sides of the held PUT's connection: the server never gets the rest of the body.</summary>
    public void DropHeld() => Decide(forward: false);

    /// <summary>Lets the held PUT's body go through after all.</summary>
    public void ReleaseHeld() => Decide(forward: true);

    /// <summary>Resets every connection and refuses new ones until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        var reset = _relay.CutOff();
        _log($"S3 proxy paused: {reset} connection(s) reset, new ones refused");
    }

    /// <summary>Relays again.</summary>
    public void Resume()
    {
        _relay.Resume();
        _log("S3 proxy resumed");
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _armed?.Held.TrySetCanceled();
            _armed = null;
            _held?.Decision.TrySetResult(false);
            _held = null;
        }

        await _relay.DisposeAsync();
    }

    private void Decide(bool forward)
    {
        (HeldPut Put, TaskCompletionSource<bool> Decision) held;
        lock (_lock)
        {
            held = _held ?? throw new InvalidOperationException("No PUT is held.");
            _held = null;
        }

        _log($"S3 proxy {(forward ? "releases" : "drops")} the held PUT of {held.Put.Key} (connection {held.Put.Connection})");
        held.Decision.TrySetResult(forward);
    }

    // Requests parsed on their way to s3rver, responses relayed byte for byte.
    private async Task RelayAsync(Socket client, Socket server, int connection, CancellationToken cancellationToken) =>
        await Task.WhenAny(ForwardRequestsAsync(client, server, connection, cancellationToken), TcpRelay.PumpAsync(server, client, cancellationToken));

    // Client to server, request by request: headers, then Content-Length bytes of body. A chunked
    // request (the SDK sends none) or an oversized header turns the rest of the connection into a plain relay.
    private async Task ForwardRequestsAsync(Socket client, Socket server, int connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var head = new MemoryStream();
        long bodyLeft = 0;
        var relayOnly = false;
        RequestState? put = null;
        try
        {
            while (true)
            {
                var read = await client.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    server.Shutdown(SocketShutdown.Send);
                    return;
                }

                var pos = 0;
                while (pos < read)
                {
                    if (relayOnly)
                    {
                        await SendAsync(server, buffer.AsMemory(pos, read - pos), cancellationToken);
                        pos = read;
                    }
                    else if (bodyLeft > 0)
                    {
                        var n = (int)Math.Min(bodyLeft, read - pos);
                        if (put is { HoldAt: >= 0 } holding && holding.Forwarded + n >= holding.HoldAt)
                        {
                            var before = (int)(holding.HoldAt - holding.Forwarded);
                            await SendAsync(server, buffer.AsMemory(pos, before), cancellationToken);
                            holding.Forwarded += before;
                            bodyLeft -= before;
                            pos += before;
                            holding.HoldAt = -1;
                            if (!await HoldAsync(holding, connection, cancellationToken))
                            {
                                TcpRelay.Reset(client);
                                TcpRelay.Reset(server);
                                return;
                            }

                            continue;
                        }

                        await SendAsync(server, buffer.AsMemory(pos, n), cancellationToken);
                        bodyLeft -= n;
                        pos += n;
                        if (put is not null)
                        {
                            put.Forwarded += n;
                            if (bodyLeft == 0)
                            {
                                Completed(put, connection);
                                put = null;
                            }
                        }
                    }
                    else
                    {
                        // Headers: up to and including the blank line.
                        var end = HeaderEnd(head, buffer.AsSpan(pos, read - pos));
                        var take = end < 0 ? read - pos : end;
                        head.Write(buffer, pos, take);
                        pos += take;
                        if (end < 0)
                        {
                            if (head.Length > MaxHeaderBytes)
                            {
                                await SendAsync(server, head.ToArray(), cancellationToken);
                                head.SetLength(0);
                                relayOnly = true;
                            }

                            continue;
                        }

                        var headers = head.ToArray();
                        head.SetLength(0);
                        await SendAsync(server, headers, cancellationToken);
                        var request = Parse(headers);
                        relayOnly = request.Chunked;
                        bodyLeft = request.ContentLength;
                        put = request.ObjectKey is { } key ? Started(request, key, connection) : null;
                        if (put is not null && bodyLeft == 0)
                        {
                            Completed(put, connection);
                            put = null;
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (TcpRelay.IsClosed(ex))
        {
        }
    }

    private static async Task SendAsync(Socket server, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await server.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes[sent..];
        }
    }

    // Where the blank line ends within `next`, counting the header bytes already kept; -1 when not yet.
    private static int HeaderEnd(MemoryStream head, ReadOnlySpan<byte> next)
    {
        // The terminator may straddle what was kept and what came now: look at the kept tail too.
        var tail = (int)Math.Min(3, head.Length);
        var joined = new byte[tail + next.Length];
        head.GetBuffer().AsSpan((int)head.Length - tail, tail).CopyTo(joined);
        next.CopyTo(joined.AsSpan(tail));
        var at = joined.AsSpan().IndexOf(_headerEnd);
        return at < 0 ? -1 : at + _headerEnd.Length - tail;
    }

    private static ParsedRequest Parse(byte[] headers)
    {
        var lines = Encoding.Latin1.GetString(headers).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var method = requestLine[0];
        var target = requestLine.Length > 1 ? requestLine[1] : "/";
        long contentLength = 0;
        var chunked = false;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = long.Parse(value, CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
        }

        // Path-style: /bucket/key; a PUT with uploadId or partNumber is a multipart part, not an object.
        string? bucket = null;
        string? key = null;
        var path = target.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? new Uri(target).PathAndQuery : target;
        var query = path.Contains('?', StringComparison.Ordinal) ? path[(path.IndexOf('?', StringComparison.Ordinal) + 1)..] : string.Empty;
        path = path.Split('?')[0].TrimStart('/');
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        if (method == "PUT" && slash > 0 && slash < path.Length - 1 && !query.Contains("uploadId", StringComparison.Ordinal) && !query.Contains("partNumber", StringComparison.Ordinal))
        {
            bucket = Uri.UnescapeDataString(path[..slash]);
            key = Uri.UnescapeDataString(path[(slash + 1)..]);
        }

        return new ParsedRequest(bucket, key, contentLength, chunked);
    }

    private RequestState Started(ParsedRequest request, string key, int connection)
    {
        var state = new RequestState(request.Bucket!, key, request.ContentLength);
        lock (_lock)
        {
            _puts.Add(new ProxiedPut(connection, key, request.ContentLength, false, _clock.Elapsed));
            if (_armed is { } armed && key.StartsWith(armed.Prefix, StringComparison.Ordinal) && request.ContentLength >= 2)
            {
                state.HoldAt = request.ContentLength / 2;
                state.Held = armed.Held;
                _armed = null;
            }
        }

        return state;
    }

    private void Completed(RequestState put, int connection)
    {
        lock (_lock)
        {
            var at = _puts.FindLastIndex(p => p.Connection == connection && p.Key == put.Key && !p.Whole);
            if (at >= 0)
            {
                _puts[at] = _puts[at] with { Whole = true };
            }
        }
    }

    // Tells the test, then waits for its decision: true to go on forwarding, false to drop.
    private async Task<bool> HoldAsync(RequestState put, int connection, CancellationToken cancellationToken)
    {
        var decision = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new HeldPut(connection, put.Bucket, put.Key, put.ContentLength, put.Forwarded);
        lock (_lock)
        {
            _held = (held, decision);
        }

        _log($"S3 proxy holds the PUT of {put.Key} (connection {connection}) after {put.Forwarded} of {put.ContentLength} body bytes");
        put.Held!.TrySetResult(held);
        using var registration = cancellationToken.Register(() => decision.TrySetResult(false));
        return await decision.Task;
    }

    private sealed record ParsedRequest(string? Bucket, string? ObjectKey, long ContentLength, bool Chunked);

    private sealed class RequestState(string bucket, string key, long contentLength)
    {
        public string Bucket => bucket;

        public string Key => key;

        public long ContentLength => contentLength;

        public long Forwarded { get; set; }

        /// <summary>Body bytes to forward before holding; -1 when not held.</summary>
        public long HoldAt { get; set; } = -1;

        public TaskCompletionSource<HeldPut>? Held { get; set; }
    }
}
