using System.Globalization;

namespace Streams.Faults.Hosts;

/// <summary>
/// N hosts as network namespaces on one bridge (deploy/netns/hosts.sh), a Streams node in each, and
/// the faults between them. Host i (from 1) runs <c>node-i</c> at <c>A.B.C.i:7400</c>, which this
/// process reaches directly. Disposing destroys everything the script made.
/// </summary>
internal sealed class NetnsHosts : IAsyncDisposable
{
    private static readonly TimeSpan _commandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan _startTimeout = TimeSpan.FromSeconds(120);

    private readonly HostScript _script;
    private readonly Action<string> _log;

    private NetnsHosts(HostScript script, int count, string network, bool canDegradeLinks, Action<string> log)
    {
        _script = script;
        Count = count;
        Network = network;
        CanDegradeLinks = canDegradeLinks;
        _log = log;
    }

    public int Count { get; }

    /// <summary>The first three octets of the hosts' /24, such as <c>10.79.12</c>.</summary>
    public string Network { get; }

    /// <summary>Whether delay, loss and reorder can be applied (netem, or the user-space wire).</summary>
    public bool CanDegradeLinks { get; }

    public string Prefix => _script.Prefix;

    public static string NodeId(int host) => string.Create(CultureInfo.InvariantCulture, $"node-{host}");

    /// <summary>The host a node id names, or 0.</summary>
    public static int HostOf(string nodeId) =>
        nodeId.StartsWith("node-", StringComparison.Ordinal) && int.TryParse(nodeId.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var host) ? host : 0;

    public Uri Endpoint(int host) => new(string.Create(CultureInfo.InvariantCulture, $"http://{Network}.{host}:7400"));

    /// <summary>
    /// Makes <paramref name="count"/> hosts named <paramref name="prefix"/>-1.. on the first free
    /// subnet 10.79.X.0/24 (X from the process id), with their state under <paramref name="stateDirectory"/>.
    /// </summary>
    public static async Task<NetnsHosts> CreateAsync(string repoRoot, int count, string prefix, string stateDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        var script = new HostScript(repoRoot, prefix, stateDirectory);
        if (!File.Exists(script.ScriptPath))
        {
            throw new FaultRunException($"{script.ScriptPath} is missing: run from a checkout of the repository (or set STREAMS_REPO_ROOT).");
        }

        HostScriptResult? create = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var octet = 20 + ((Environment.ProcessId + (attempt * 41)) % 230);
            var network = string.Create(CultureInfo.InvariantCulture, $"10.79.{octet}");
            create = await script.RunAsync(["create", "--hosts", count.ToString(CultureInfo.InvariantCulture), "--subnet", network + ".0/24"], _commandTimeout, cancellationToken);
            if (create.Succeeded)
            {
                log(create.Stdout.Trim());
                // A 1 ms delay, made and removed again, works exactly when link faults can be made.
                var probe = await script.RunAsync(["delay", "1", "1"], _commandTimeout, cancellationToken);
                if (probe.Succeeded)
                {
                    await script.RunAsync(["delay", "1", "0"], _commandTimeout, cancellationToken);
                }

                return new NetnsHosts(script, count, network, probe.Succeeded, log);
            }

            if (!create.Stderr.Contains("in use", StringComparison.Ordinal) && !create.Stderr.Contains("routed here", StringComparison.Ordinal))
            {
                break;
            }
        }

        throw new FaultRunException($"Could not make the hosts (network namespaces need root and iproute2): {create?.Describe()}");
    }

    /// <summary>Starts node-<paramref name="host"/> with its data in <paramref name="dataDirectory"/>; returns once it listens.</summary>
    public Task StartNodeAsync(int host, string serverDll, string dataDirectory, IReadOnlyList<string> nodeArguments, CancellationToken cancellationToken) =>
        RunAsync(["start-node", Name(host), "--server", serverDll, "--data", dataDirectory, "--timeout", "110", .. nodeArguments], _startTimeout, cancellationToken);

    public Task PartitionAsync(IReadOnlyList<int> side, IReadOnlyList<int> otherSide, CancellationToken cancellationToken) =>
        RunAsync(["partition", Names(side), Names(otherSide)], _commandTimeout, cancellationToken);

    public Task PartitionOneWayAsync(int from, int to, CancellationToken cancellationToken) =>
        RunAsync(["partition", "--one-way", Name(from), Name(to)], _commandTimeout, cancellationToken);

    public Task DelayAsync(int host, int milliseconds, int jitterMilliseconds, CancellationToken cancellationToken) =>
        RunAsync(["delay", Name(host), Name(milliseconds), Name(jitterMilliseconds)], _commandTimeout, cancellationToken);

    public Task LossAsync(int host, int percent, CancellationToken cancellationToken) =>
        RunAsync(["loss", Name(host), Name(percent)], _commandTimeout, cancellationToken);

    public Task ReorderAsync(int host, int percent, CancellationToken cancellationToken) =>
        RunAsync(["reorder", Name(host), Name(percent)], _commandTimeout, cancellationToken);

    public Task PauseAsync(int host, CancellationToken cancellationToken) => RunAsync(["pause", Name(host)], _commandTimeout, cancellationToken);

    public Task CrashAsync(int host, CancellationToken cancellationToken) => RunAsync(["crash", Name(host)], _commandTimeout, cancellationToken);

    /// <summary>Starts a crashed node again on its data; returns once it listens.</summary>
    public Task RestartAsync(int host, CancellationToken cancellationToken) => RunAsync(["restart", Name(host)], _startTimeout, cancellationToken);

    /// <summary>Removes every partition and link fault and resumes paused nodes (crashed ones stay down).</summary>
    public Task HealAsync(CancellationToken cancellationToken) => RunAsync(["heal"], _commandTimeout, cancellationToken);

    public async Task<string> StatusAsync(CancellationToken cancellationToken) =>
        (await _script.RunAsync(["status"], _commandTimeout, cancellationToken)).Stdout;

    public async ValueTask DisposeAsync()
    {
        var destroy = await _script.RunAsync(["destroy"], _commandTimeout, CancellationToken.None);
        if (!destroy.Succeeded)
        {
            _log($"destroying the hosts failed: {destroy.Describe()}");
        }
    }

    private static string Name(int host) => host.ToString(CultureInfo.InvariantCulture);

    private static string Names(IReadOnlyList<int> hosts) => string.Join(',', hosts.Select(Name));

    private async Task RunAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await _script.RunAsync(args, timeout, cancellationToken);
        if (!result.Succeeded)
        {
            throw new FaultRunException($"The hosts refused a command: {result.Describe()}");
        }
    }
}
