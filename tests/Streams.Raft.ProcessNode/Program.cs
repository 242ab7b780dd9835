using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streams.Raft.ProcessNode;
using Streams.Raft.Runtime;
using Streams.Raft.Storage;
using Streams.Raft.Transport;
using Streams.Rpc.Server;

// A Raft node as a real process, for tests that SIGKILL it (tests/Streams.Raft.Tests/Cluster).
//
//   dotnet Streams.Raft.ProcessNode.dll --id N --port P --http-port H
//       --peers 1=http://127.0.0.1:P1,2=http://127.0.0.1:P2,3=http://127.0.0.1:P3 --data DIR
//       [--tick-ms 25] [--snapshot-every 200] [--exit-with-parent]
//
// One Raft group (id 1) whose voters are the ids in --peers, its log a FileRaftLog in DIR with
// fsync on. The Raft transport (h2c, streams.raft.v1.RaftTransport) listens on 127.0.0.1:P; a
// client API (HTTP/1.1, JSON) on 127.0.0.1:H:
//   POST /put     body = the value (UTF-8 text, not empty)
//                 200 {"index"}                 committed and applied here (ProposeAsync completed)
//                 421 {"error":"not-leader", "leader", "mayHaveCommitted"}  retry at "leader" (0: unknown)
//                 503 {"error", "leader", "mayHaveCommitted"}               dropped, timed out, stopped
//   GET  /values  {"applied", "values":[{"index","value"}]}: the state machine, in log order
//   GET  /status  {"node","role","term","leader","commit","applied","lastIndex"}
// Prints "node N ready" once both listeners are up. SIGTERM (or, with --exit-with-parent, the end
// of stdin, i.e. the parent died) shuts it down gracefully; SIGKILL is what the tests are about.
NodeArguments arguments;
try
{
    arguments = NodeArguments.Parse(args);
}
catch (FormatException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(NodeArguments.Usage);
    return 2;
}

const long GroupId = 1;

// How long /put waits for its entry to apply before answering "ambiguous" (the entry may still
// commit later); below the test client's own timeout so the client gets an answer.
var proposeTimeout = TimeSpan.FromSeconds(4);

// Raft's own events (leader changes, snapshots, unreachable peers) go to stdout, which the test
// keeps the tail of for its failure messages; everything else only from warnings up.
using var loggerFactory = LoggerFactory.Create(logging => logging
    .AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "HH:mm:ss.fff ";
    })
    .SetMinimumLevel(LogLevel.Warning)
    .AddFilter("Streams.Raft", LogLevel.Debug));

using var log = await FileRaftLog.OpenAsync(new FileRaftLogOptions { Directory = arguments.DataDirectory, Fsync = true }, CancellationToken.None);
Console.Out.WriteLine(
    $"node {arguments.Id} opened its log in {arguments.DataDirectory}: entries {log.FirstIndex}..{log.LastIndex}, snapshot at {log.Snapshot?.Metadata.Index ?? 0}, "
    + $"{log.Recovery.Segments} segment(s), torn tail cut: {log.Recovery.TruncatedBytes} bytes{(log.Recovery.TruncatedFile is { } torn ? $" of {torn}" : "")}, leftovers deleted: {log.Recovery.DeletedFiles.Count}");

var peers = new RaftPeers(arguments.Peers.Where(peer => peer.Key != arguments.Id));

// Short reconnect delays: a killed peer comes back within a second or so on the same port.
await using var transport = new RpcRaftTransport(arguments.Id, peers, new RpcRaftTransportOptions
{
    CallTimeout = TimeSpan.FromSeconds(2),
    ConnectTimeout = TimeSpan.FromMilliseconds(500),
    MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
}, loggerFactory: loggerFactory);
await using var host = new RaftHost(arguments.Id, transport, new RaftHostOptions { TickInterval = arguments.TickInterval }, loggerFactory: loggerFactory);

var values = new AppendOnlyValues();
var group = await host.AddGroupAsync(new RaftGroupOptions
{
    GroupId = GroupId,
    Voters = [.. arguments.Peers.Keys.Order()],
    SnapshotEveryEntries = arguments.SnapshotEveryEntries,
}, log, values);
values.Started = true;

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.ConfigureHttp2ForRpc();
    kestrel.Listen(IPAddress.Loopback, arguments.RaftPort, listen => listen.Protocols = HttpProtocols.Http2);
    kestrel.Listen(IPAddress.Loopback, arguments.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
});
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(2));
builder.Services.AddStreamsRpc();
builder.Services.AddRaftTransport(host);
await using var app = builder.Build();
app.UseStreamsRpc();

app.MapPost("/put", async (HttpRequest request, CancellationToken aborted) =>
{
    using var reader = new StreamReader(request.Body, Encoding.UTF8);
    var value = await reader.ReadToEndAsync(aborted);
    if (value.Length == 0)
    {
        // An empty entry would be taken for a leader's no-op and never show up in /values.
        return Results.BadRequest(new { error = "empty value" });
    }

    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
    timeout.CancelAfter(proposeTimeout);
    try
    {
        var index = await group.ProposeAsync(Encoding.UTF8.GetBytes(value), timeout.Token);
        return Results.Json(new { index });
    }
    catch (NotLeaderException ex)
    {
        return Results.Json(new { error = "not-leader", leader = ex.LeaderHint, mayHaveCommitted = ex.MayHaveCommitted, message = ex.Message }, statusCode: StatusCodes.Status421MisdirectedRequest);
    }
    catch (ProposalDroppedException ex)
    {
        // Another entry was committed at its index: it will never apply.
        return Unavailable("dropped", mayHaveCommitted: false, ex.Message);
    }
    catch (OperationCanceledException)
    {
        return Unavailable("timeout", mayHaveCommitted: true, $"not applied within {proposeTimeout.TotalSeconds} s; it may still be");
    }
    catch (RaftGroupStoppedException ex)
    {
        return Unavailable("stopped", mayHaveCommitted: true, ex.Message);
    }
});

app.MapGet("/values", () => Results.Json(values.Read()));

app.MapGet("/status", () =>
{
    var status = group.Status;
    return Results.Json(new
    {
        node = status.NodeId,
        role = status.Role.ToString(),
        term = status.Term,
        leader = status.Leader,
        commit = status.CommitIndex,
        applied = status.AppliedIndex,
        lastIndex = status.LastIndex,
    });
});

await app.StartAsync();

// A group that fails (storage or state machine) stops for good: exit, so the test sees a dead
// node with the reason in its output instead of one that silently never catches up.
_ = group.Completion.ContinueWith(
    completion =>
    {
        Console.Error.WriteLine($"node {arguments.Id}: Raft group stopped: {completion.Exception?.GetBaseException().ToString() ?? "no failure"}");
        app.Lifetime.StopApplication();
    },
    CancellationToken.None,
    TaskContinuationOptions.OnlyOnFaulted,
    TaskScheduler.Default);

if (arguments.ExitWithParent)
{
    _ = Task.Run(async () =>
    {
        // The parent holds the write end of our stdin; it closes when the parent exits, even by
        // SIGKILL, so no node outlives a crashed test host.
        await using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (await stdin.ReadAsync(buffer) > 0)
        {
        }

        Console.Out.WriteLine($"node {arguments.Id}: stdin closed, shutting down");
        app.Lifetime.StopApplication();
    });
}

Console.Out.WriteLine($"node {arguments.Id} ready");
Console.Out.Flush();
await app.WaitForShutdownAsync();
Console.Out.WriteLine($"node {arguments.Id} stopped");
return group.Completion.IsFaulted ? 1 : 0;

static IResult Unavailable(string error, bool mayHaveCommitted, string message) =>
    Results.Json(new { error, leader = 0L, mayHaveCommitted, message }, statusCode: StatusCodes.Status503ServiceUnavailable);
