using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Streams.Cluster.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 (a free port) to one loopback port: each accepted connection gets its
/// own connection to the target, and the two are handed to a relay function (by default bytes are
/// pumped both ways) until either side ends. It tracks the open connections, so that it can cut
/// them all off with RST and refuse new ones, as a lost route looks to both peers.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly Func<Socket, Socket, int, CancellationToken, Task> _relay;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;
    private bool _cutOff;
    private int _connections;

    /// <summary>A relay to <paramref name="target"/>'s port on 127.0.0.1, accepting at once.</summary>
    /// <param name="target">The server, <c>http://127.0.0.1:port</c>.</param>
    /// <param name="relay">
    /// What to do with a connection: given the client's socket, the server's (connected), the
    /// relay's number for the connection (1, 2, ...) and a token cancelled when the relay is
    /// disposed; the connection is reset once it completes. Null: <see cref="PumpBothWaysAsync"/>.
    /// </param>
    public TcpRelay(Uri target, Func<Socket, Socket, int, CancellationToken, Task>? relay = null)
    {
        _target = new IPEndPoint(IPAddress.Loopback, target.Port);
        _relay = relay ?? PumpBothWaysAsync;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect, <c>http://127.0.0.1:port</c>.</summary>
    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Copies bytes both ways until either side ends or fails.</summary>
    public static async Task PumpBothWaysAsync(Socket client, Socket server, int connection, CancellationToken cancellationToken) =>
        await Task.WhenAny(PumpAsync(client, server, cancellationToken), PumpAsync(server, client, cancellationToken));

    /// <summary>Copies bytes from one socket to the other until the first ends (or either fails).</summary>
    public static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }
        }
        catch (Exception ex) when (IsClosed(ex))
        {
        }
    }

    /// <summary>Closes with RST (linger 0), so the peer sees the connection cut off, not ended.</summary>
    public static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>What a relayed socket throws once its connection is reset or the relay stops.</summary>
    public static bool IsClosed(Exception ex) => ex is OperationCanceledException or SocketException or ObjectDisposedException;

    /// <summary>Resets every relayed connection and refuses new ones until <see cref="Resume"/>; returns how many were reset.</summary>
    public int CutOff()
    {
        List<Socket> open;
        lock (_lock)
        {
            _cutOff = true;
            open = [.. _sockets];
            _sockets.Clear();
        }

        foreach (var socket in open)
        {
            Reset(socket);
        }

        return open.Count / 2;
    }

    /// <summary>Relays again.</summary>
    public void Resume()
    {
        lock (_lock)
        {
            _cutOff = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutOff();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (IsClosed(ex))
            {
                return;
            }

            _ = RelayAsync(client, Interlocked.Increment(ref _connections));
        }
    }

    private async Task RelayAsync(Socket client, int connection)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_lock)
        {
            if (_cutOff)
            {
                Reset(client);
                server.Dispose();
                return;
            }

            _sockets.Add(client);
            _sockets.Add(server);
        }

        try
        {
            await server.ConnectAsync(_target, _stop.Token);
            await _relay(client, server, connection, _stop.Token);
        }
        catch (Exception ex) when (IsClosed(ex))
        {
        }
        finally
        {
            lock (_lock)
            {
                _sockets.Remove(client);
                _sockets.Remove(server);
            }

            Reset(client);
            Reset(server);
        }
    }
}
