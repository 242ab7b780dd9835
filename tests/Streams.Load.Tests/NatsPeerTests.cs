using System.Buffers;
using System.Collections.Concurrent;
using Streams.Load.Nats;

namespace Streams.Load.Tests;

/// <summary>
/// The NATS JetStream peer of the load comparison: real <c>nats-server</c> processes (Debian's
/// package; a missing binary fails these tests with the package's name) and our own client.
/// </summary>
public sealed class NatsPeerTests : IDisposable
{
    private const int Messages = 10_000;
    private const int Publishers = 4;
    private const int InFlight = 256;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"streams-nats-{Guid.NewGuid():N}");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(3));

    [Fact]
    public void Executable_is_installed()
    {
        // Fails (never skips) with the Debian package's name when the server is missing.
        var path = NatsServers.RequireExecutable();
        Assert.True(File.Exists(path));
    }

    [Fact]
    public Task Single_server_R1_acks_every_publish_with_sequences_1_to_N() => PublishAndCheckAsync(servers: 1, replicas: 1);

    [Fact]
    public Task Three_server_cluster_R3_acks_every_publish_with_sequences_1_to_N() => PublishAndCheckAsync(servers: 3, replicas: 3);

    [Fact]
    public async Task Push_consumer_delivers_every_message_in_order()
    {
        var token = _timeout.Token;
        await using var servers = await NatsServers.StartAsync(1, _directory, null, token);
        await using var connection = await NatsConnection.ConnectAsync(servers.ClientUrls[0], null, token);
        await connection.CreateStreamAsync(new NatsStreamConfig("CONSUME", ["consume.>"]), token);
        const int count = 2_000;
        var acks = new Task<ulong>[count];
        for (var i = 0; i < count; i++)
        {
            acks[i] = connection.PublishAsync("consume.a", BitConverter.GetBytes(i), token).AsTask();
        }

        await Task.WhenAll(acks);

        var received = new List<(ulong Stream, ulong Consumer, int Value)>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var consumer = await connection.CreatePushConsumerAsync("CONSUME", null, startSequence: 1, (stream, consumerSequence, data) =>
        {
            var value = BitConverter.ToInt32(data.ToArray());
            lock (received)
            {
                received.Add((stream, consumerSequence, value));
                if (received.Count == count)
                {
                    all.TrySetResult();
                }
            }
        }, token);

        await Task.WhenAny(all.Task, consumer.Faulted).Unwrap().WaitAsync(TimeSpan.FromSeconds(60), token);
        lock (received)
        {
            Assert.Equal(count, received.Count);
            for (var i = 0; i < count; i++)
            {
                Assert.Equal((ulong)(i + 1), received[i].Stream);
                Assert.Equal((ulong)(i + 1), received[i].Consumer);
                Assert.Equal(i, received[i].Value);
            }
        }
    }

    [Fact]
    public async Task A_reply_that_never_comes_times_out()
    {
        var token = _timeout.Token;
        await using var servers = await NatsServers.StartAsync(1, _directory, null, token);
        await using var quick = await NatsConnection.ConnectAsync(servers.ClientUrls[0], new NatsConnectionOptions { RequestTimeout = TimeSpan.FromMilliseconds(500) }, token);
        await using var listener = await NatsConnection.ConnectAsync(servers.ClientUrls[0], null, token);
        await listener.CreateStreamAsync(new NatsStreamConfig("SILENT", ["silent.>"]), token);

        // The consumer's deliver subject has a subscriber (the listener) that never replies, so a
        // publish there gets no no-responders status, only silence.
        await using var consumer = await listener.CreatePushConsumerAsync("SILENT", null, 0, (_, _, _) => { }, token);
        await listener.PingAsync(token);
        var ex = await Assert.ThrowsAsync<TimeoutException>(async () => await quick.PublishAsync(consumer.DeliverSubject, "x"u8.ToArray(), token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), token));
        Assert.Contains(consumer.DeliverSubject, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, quick.PendingCount);
    }

    [Fact]
    public async Task A_server_that_goes_away_fails_every_pending_publish()
    {
        var token = _timeout.Token;
        var servers = await NatsServers.StartAsync(1, _directory, null, token);
        await using (servers)
        {
            var server = servers.Servers[0];
            await using var connection = await NatsConnection.ConnectAsync(servers.ClientUrls[0], null, token);
            await connection.CreateStreamAsync(new NatsStreamConfig("GONE", ["gone.>"]), token);
            var payload = new byte[100];
            Assert.Equal(1ul, await connection.PublishAsync("gone.a", payload, token));

            // Frozen, the server takes the bytes (into its socket buffer) and answers nothing, so
            // every publish is still pending when it dies.
            await server.PauseAsync();
            var publishes = new List<Task<ulong>>();
            for (var i = 0; i < 2_000; i++)
            {
                publishes.Add(connection.PublishAsync("gone.a", payload, token).AsTask());
            }

            await Task.Delay(200, token);
            Assert.DoesNotContain(publishes, p => p.IsCompleted);
            Assert.Equal(2_000, connection.PendingCount);
            server.Kill();
            try
            {
                // A hang would surface as a TimeoutException here and fail the test.
                await Task.WhenAll(publishes).WaitAsync(TimeSpan.FromSeconds(30), token);
            }
            catch (NatsConnectionClosedException)
            {
                // Expected: every one of them.
            }

            Assert.All(publishes, p => Assert.IsType<NatsConnectionClosedException>(p.Exception?.InnerException));
            Assert.Equal(0, connection.PendingCount);
            var reason = await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10), token);
            Assert.IsType<NatsConnectionClosedException>(reason);
            await Assert.ThrowsAsync<NatsConnectionClosedException>(async () => await connection.PublishAsync("gone.a", payload, token));
        }
    }

    public void Dispose()
    {
        _timeout.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was started.
        }
        catch (IOException)
        {
            // A leftover in the temp folder is harmless.
        }
    }

    private async Task PublishAndCheckAsync(int servers, int replicas)
    {
        var token = _timeout.Token;
        var started = await NatsServers.StartAsync(servers, _directory, null, token);
        var processes = started.Servers.ToList();
        await using (started)
        {
            Assert.Equal(servers, started.ClientUrls.Count);

            // For a cluster, go through the last server so requests and acks cross routes.
            await using var connection = await NatsConnection.ConnectAsync(started.ClientUrls[^1], null, token);
            Assert.True(connection.ServerInfo.JetStream);
            Assert.True(connection.ServerInfo.Headers);
            var created = await connection.CreateStreamAsync(new NatsStreamConfig("LOAD", ["load.>"], replicas), token);
            Assert.Equal(replicas, created.Replicas);
            Assert.Equal(0ul, created.Messages);

            var payload = new byte[100];
            var sequences = new ConcurrentBag<ulong>();
            var window = new SemaphoreSlim(InFlight);
            var next = -1;
            async Task PublishOneAsync(int index)
            {
                try
                {
                    sequences.Add(await connection.PublishAsync($"load.p{index % Publishers}", payload, token));
                }
                finally
                {
                    window.Release();
                }
            }

            async Task PublisherAsync()
            {
                var mine = new List<Task>();
                int index;
                while ((index = Interlocked.Increment(ref next)) < Messages)
                {
                    await window.WaitAsync(token);
                    mine.Add(PublishOneAsync(index));
                }

                await Task.WhenAll(mine);
            }

            using (window)
            {
                await Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => Task.Run(PublisherAsync, token)));
            }

            var sorted = sequences.Order().ToArray();
            Assert.Equal(Messages, sorted.Length);
            Assert.Equal(Enumerable.Range(1, Messages).Select(i => (ulong)i), sorted);
            var info = await connection.StreamInfoAsync("LOAD", token);
            Assert.Equal((ulong)Messages, info.Messages);
            Assert.Equal((ulong)Messages, info.LastSequence);
            if (servers == 3)
            {
                Assert.NotEmpty(info.Leader);
            }

            // Nothing takes this subject: JetStream's "no responders" must fail the publish at once.
            var noStream = await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await connection.PublishAsync("nowhere.x", payload, token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), token));
            Assert.Contains("nowhere.x", noStream.Message, StringComparison.Ordinal);

            var missing = await Assert.ThrowsAsync<NatsJetStreamException>(() => connection.StreamInfoAsync("NOPE", token));
            Assert.Equal(404, missing.Code);
            Assert.Contains("not found", missing.Message, StringComparison.OrdinalIgnoreCase);

            await connection.DeleteStreamAsync("LOAD", token);
            Assert.Equal(0, connection.PendingCount);
        }

        Assert.All(processes, p => Assert.True(p.HasExited, $"{p.Name} still runs after dispose"));
    }
}
