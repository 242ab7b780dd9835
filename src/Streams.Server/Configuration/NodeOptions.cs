using System.Net;

namespace Streams.Server.Configuration;

/// <summary>
/// Settings of one node: configuration section <c>Node</c>, read from <c>appsettings.json</c>,
/// then <c>STREAMS_Node__*</c> environment variables, then the command line (see
/// <see cref="CommandLineSwitches"/>), later sources winning.
/// </summary>
public sealed class NodeOptions
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string SectionName = "Node";

    /// <summary>The default gRPC port.</summary>
    public const int DefaultGrpcPort = 7400;

    /// <summary>The default HTTP port.</summary>
    public const int DefaultHttpPort = 7401;

    /// <summary>The largest node id, in characters.</summary>
    public const int MaxNodeIdLength = 64;

    /// <summary>The longest graceful shutdown that may be configured, in seconds.</summary>
    public const int MaxShutdownTimeoutSeconds = 3600;

    /// <summary>This node's name in the cluster: letters, digits, '.', '_' and '-'.</summary>
    public string NodeId { get; init; } = "node-1";

    /// <summary>Where the node keeps its data; a relative path is taken from the working directory. Created at start.</summary>
    public string DataDirectory { get; init; } = "./data";

    /// <summary>
    /// The address both listeners bind: an IP address, <c>localhost</c> (127.0.0.1) or <c>*</c>
    /// (every IPv4 address, like 0.0.0.0).
    /// </summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>The gRPC port (HTTP/2); 0 picks a free port.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>The HTTP port (HTTP/1.1: <c>/healthz</c>, <c>/readyz</c>); 0 picks a free port.</summary>
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>
    /// A server certificate (PKCS#12 <c>.pfx</c>/<c>.p12</c>, or PEM) that turns TLS on for both
    /// listeners. Empty: both listeners are cleartext.
    /// </summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>The password of the PKCS#12 file, or of an encrypted PEM key.</summary>
    public string? TlsCertificatePassword { get; init; }

    /// <summary>A PEM certificate's private key file, when it is not in the certificate file itself.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>The largest gRPC message, received or sent.</summary>
    public int MaxMessageSizeBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>How long a graceful shutdown (SIGTERM, Ctrl-C) may take before calls in flight are cut.</summary>
    public int ShutdownTimeoutSeconds { get; init; } = 30;

    /// <summary>True when a certificate is configured: both listeners use TLS.</summary>
    public bool TlsEnabled => !string.IsNullOrWhiteSpace(TlsCertificatePath);

    /// <summary>Checks the settings; returns one message per problem, each saying what to change (empty: all good).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(NodeId))
        {
            problems.Add($"{Setting(nameof(NodeId), "--node-id")} is empty; give the node a name such as 'node-1'.");
        }
        else if (NodeId.Length > MaxNodeIdLength || !NodeId.All(IsNodeIdChar))
        {
            problems.Add($"{Setting(nameof(NodeId), "--node-id")} is '{NodeId}'; use at most {MaxNodeIdLength} letters, digits, '.', '_' or '-'.");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            problems.Add($"{Setting(nameof(DataDirectory), "--data-dir")} is empty; set it to a directory the node may create and write, such as './data'.");
        }

        if (!TryParseBindAddress(BindAddress, out _))
        {
            problems.Add($"{Setting(nameof(BindAddress), "--bind")} is '{BindAddress}'; use an IP address (127.0.0.1, 0.0.0.0, ::1), 'localhost' or '*'.");
        }

        CheckPort(problems, nameof(GrpcPort), "--grpc-port", GrpcPort);
        CheckPort(problems, nameof(HttpPort), "--http-port", HttpPort);
        if (GrpcPort == HttpPort && GrpcPort is > 0 and <= IPEndPoint.MaxPort)
        {
            problems.Add($"{Setting(nameof(GrpcPort), "--grpc-port")} and {Setting(nameof(HttpPort), "--http-port")} are both {GrpcPort}; the two listeners need different ports (or 0 for each to pick a free one).");
        }

        if (TlsEnabled)
        {
            if (!File.Exists(TlsCertificatePath))
            {
                problems.Add($"{Setting(nameof(TlsCertificatePath), "--tls-cert")} is '{TlsCertificatePath}', but no such file exists (looked for {Path.GetFullPath(TlsCertificatePath!)}); point it at a .pfx/.p12 or PEM certificate, or leave it empty for cleartext.");
            }

            if (!string.IsNullOrWhiteSpace(TlsKeyPath) && !File.Exists(TlsKeyPath))
            {
                problems.Add($"{Setting(nameof(TlsKeyPath), "--tls-key")} is '{TlsKeyPath}', but no such file exists (looked for {Path.GetFullPath(TlsKeyPath!)}); point it at the certificate's PEM private key, or leave it empty when the key is in the certificate file.");
            }
        }
        else
        {
            if (!string.IsNullOrEmpty(TlsCertificatePassword))
            {
                problems.Add($"{Setting(nameof(TlsCertificatePassword), null)} is set but {Setting(nameof(TlsCertificatePath), "--tls-cert")} is empty; set the certificate path too, or remove the password.");
            }

            if (!string.IsNullOrWhiteSpace(TlsKeyPath))
            {
                problems.Add($"{Setting(nameof(TlsKeyPath), "--tls-key")} is set but {Setting(nameof(TlsCertificatePath), "--tls-cert")} is empty; set the certificate path too, or remove the key path.");
            }
        }

        if (MaxMessageSizeBytes < 1)
        {
            problems.Add($"{Setting(nameof(MaxMessageSizeBytes), null)} is {MaxMessageSizeBytes}; it must be at least 1 byte (the default is 16777216, 16 MiB: a GetRecords answer may carry 10 MiB).");
        }

        if (ShutdownTimeoutSeconds is < 0 or > MaxShutdownTimeoutSeconds)
        {
            problems.Add($"{Setting(nameof(ShutdownTimeoutSeconds), null)} is {ShutdownTimeoutSeconds}; it must be between 0 and {MaxShutdownTimeoutSeconds} seconds.");
        }

        return problems;
    }

    /// <summary>The IP address to bind; call after <see cref="Validate"/> found nothing wrong.</summary>
    public IPAddress ResolveBindAddress() =>
        TryParseBindAddress(BindAddress, out var address)
            ? address
            : throw new InvalidOperationException($"Node:BindAddress '{BindAddress}' is not an IP address, 'localhost' or '*'.");

    private static bool TryParseBindAddress(string? value, out IPAddress address)
    {
        switch (value?.Trim())
        {
            case null or "":
                address = IPAddress.None;
                return false;
            case "*":
                address = IPAddress.Any;
                return true;
            case var name when string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase):
                address = IPAddress.Loopback;
                return true;
            case var literal:
                if (IPAddress.TryParse(literal, out var parsed))
                {
                    address = parsed;
                    return true;
                }

                address = IPAddress.None;
                return false;
        }
    }

    private static void CheckPort(List<string> problems, string name, string option, int port)
    {
        if (port is < 0 or > IPEndPoint.MaxPort)
        {
            problems.Add($"{Setting(name, option)} is {port}; a port must be between 0 and {IPEndPoint.MaxPort} (0 picks a free port).");
        }
    }

    private static bool IsNodeIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';

    private static string Setting(string key, string? option) => CommandLineSwitches.Describe(SectionName, key, option);
}
