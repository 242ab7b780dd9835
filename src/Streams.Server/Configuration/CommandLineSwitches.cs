using System.Collections.Frozen;

namespace Streams.Server.Configuration;

/// <summary>
/// The command line: any configuration key as <c>--Section:Key value</c> (or
/// <c>--Section:Key=value</c>), and friendly switches for the common ones.
/// </summary>
public static class CommandLineSwitches
{
    /// <summary>The friendly switches and the configuration key each one sets.</summary>
    public static IReadOnlyDictionary<string, string> Mappings { get; } = new Dictionary<string, string>
    {
        ["--node-id"] = "Node:NodeId",
        ["--data-dir"] = "Node:DataDirectory",
        ["--bind"] = "Node:BindAddress",
        ["--host"] = "Node:BindAddress",
        ["--grpc-port"] = "Node:GrpcPort",
        ["--http-port"] = "Node:HttpPort",
        ["--tls-cert"] = "Node:TlsCertificatePath",
        ["--tls-key"] = "Node:TlsKeyPath",
        ["--otlp-endpoint"] = "Telemetry:OtlpEndpoint",
        ["--log-format"] = "Logging:Format",
        ["--peers"] = "Cluster:Peers",
        ["--advertise"] = "Cluster:AdvertiseAddress",
        ["--join"] = "Cluster:Join",
        ["--replication-factor"] = "Cluster:DefaultReplicationFactor",
        ["--durability"] = "Cluster:Durability",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The configuration sections the command line may set; any other key is a mistake.</summary>
    public static IReadOnlySet<string> KnownSections { get; } = new[] { NodeOptions.SectionName, ClusterOptions.SectionName, LimitsOptions.SectionName, TelemetryOptions.SectionName, FirehoseOptions.SectionName, "Logging" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The text printed by <c>--help</c>.</summary>
    public static string Usage { get; } = """
        Usage: Streams.Server [options]

        Runs one Streams node. With no options: node-1 on 127.0.0.1, gRPC on port 7400,
        HTTP (/healthz, /readyz) on port 7401, data under ./data.

        Options:
          --node-id ID          this node's name (Node:NodeId, default node-1)
          --data-dir PATH       data directory, created if missing (Node:DataDirectory, default ./data)
          --bind, --host ADDR   address of both listeners: an IP, localhost or * (Node:BindAddress, default 127.0.0.1)
          --grpc-port PORT      gRPC port, 0 for a free one (Node:GrpcPort, default 7400)
          --http-port PORT      HTTP port, 0 for a free one (Node:HttpPort, default 7401)
          --tls-cert PATH       PKCS#12 or PEM certificate: TLS on both listeners (Node:TlsCertificatePath)
          --tls-key PATH        PEM private key, when not in the certificate file (Node:TlsKeyPath)
          --otlp-endpoint URL   export traces and metrics over OTLP (Telemetry:OtlpEndpoint)
          --log-format FORMAT   simple or json (Logging:Format, default simple)
          --peers LIST          the nodes forming the cluster at first start, this one included:
                                id=address,... e.g. node-1=http://127.0.0.1:7400,node-2=http://127.0.0.1:7410
                                (Cluster:Peers; empty: a one-node cluster)
          --advertise URL       the gRPC address other nodes reach this one at (Cluster:AdvertiseAddress)
          --join true           start empty and wait for Cluster.AddNode from a running cluster (Cluster:Join)
          --replication-factor N  replicas per shard by default, at most the node count (Cluster:DefaultReplicationFactor, default 3)
          --durability POLICY   always (fsync before acknowledging), interval or never (Cluster:Durability, default always)
          --Section:Key VALUE   any other setting, e.g. --Node:MaxMessageSizeBytes 8388608
          -h, --help            print this help

        Settings are read from appsettings.json beside the program, then environment variables
        STREAMS_Section__Key (e.g. STREAMS_Node__GrpcPort=7500), then the command line; later
        sources win. A certificate password comes from Node:TlsCertificatePassword
        (STREAMS_Node__TlsCertificatePassword), never from the command line.

        Once both listeners are bound the node prints one line on standard output:
          streams: listening grpc=<address> http=<address>
        Logs go to standard error. Exit codes: 0 after a graceful stop (SIGTERM, Ctrl-C),
        1 when the node could not start, 2 when the configuration is invalid.

        """;

    /// <summary>True when <paramref name="args"/> asks for help.</summary>
    public static bool IsHelp(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Any(a => a is "-h" or "--help" or "-?" or "/?");
    }

    /// <summary>How messages name a setting: its key, and its switch if it has one.</summary>
    public static string Describe(string section, string key, string? option) =>
        option is null ? $"{section}:{key}" : $"{section}:{key} ({option})";
}
