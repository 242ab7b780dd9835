using System.Globalization;

namespace Streams.Raft.ProcessNode;

/// <summary>The command line of the node (see <see cref="Usage"/>).</summary>
internal sealed record NodeArguments(
    long Id,
    int RaftPort,
    int HttpPort,
    IReadOnlyDictionary<long, Uri> Peers,
    string DataDirectory,
    TimeSpan TickInterval,
    long SnapshotEveryEntries,
    bool ExitWithParent)
{
    public const string Usage =
        "usage: Streams.Raft.ProcessNode --id N --port P --http-port H --peers 1=http://127.0.0.1:P1,2=http://127.0.0.1:P2,3=http://127.0.0.1:P3 --data DIR"
        + " [--tick-ms 25] [--snapshot-every 200] [--exit-with-parent]";

    /// <summary>Parses the arguments; throws a <see cref="FormatException"/> naming what is wrong.</summary>
    public static NodeArguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var exitWithParent = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--exit-with-parent")
            {
                exitWithParent = true;
            }
            else if (name.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                values[name[2..]] = args[++i];
            }
            else
            {
                throw new FormatException($"Unexpected argument '{name}'.");
            }
        }

        string Required(string name) =>
            values.TryGetValue(name, out var value) ? value : throw new FormatException($"--{name} is required.");

        long Number(string name, long fallback) =>
            values.TryGetValue(name, out var value) ? long.Parse(value, CultureInfo.InvariantCulture) : fallback;

        var id = long.Parse(Required("id"), CultureInfo.InvariantCulture);
        var peers = new Dictionary<long, Uri>();
        foreach (var peer in Required("peers").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = peer.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw new FormatException($"Peer '{peer}' is not of the form id=http://host:port.");
            }

            peers[long.Parse(peer.AsSpan(0, separator), CultureInfo.InvariantCulture)] = new Uri(peer[(separator + 1)..]);
        }

        if (!peers.ContainsKey(id))
        {
            throw new FormatException($"--peers must list this node ({id}) too: the voters are the peers' ids.");
        }

        return new NodeArguments(
            id,
            int.Parse(Required("port"), CultureInfo.InvariantCulture),
            int.Parse(Required("http-port"), CultureInfo.InvariantCulture),
            peers,
            Required("data"),
            TimeSpan.FromMilliseconds(Number("tick-ms", 25)),
            Number("snapshot-every", 200),
            exitWithParent);
    }
}
