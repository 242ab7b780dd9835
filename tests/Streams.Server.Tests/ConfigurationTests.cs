using Streams.Server.Configuration;
using Streams.Server.Hosting;

namespace Streams.Server.Tests;

/// <summary>How the node reads its configuration: sources, precedence, and the messages for mistakes.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Without_settings_the_node_uses_the_documented_defaults()
    {
        await using var node = Create([]);

        var options = node.Options;
        Assert.Equal("node-1", options.NodeId);
        Assert.Equal("./data", options.DataDirectory);
        Assert.Equal("127.0.0.1", options.BindAddress);
        Assert.Equal(7400, options.GrpcPort);
        Assert.Equal(7401, options.HttpPort);
        Assert.Equal(16 * 1024 * 1024, options.MaxMessageSizeBytes);
        Assert.False(options.TlsEnabled);
        Assert.False(node.Telemetry.ExportEnabled);
        Assert.Equal(TelemetryOptions.HttpProtobufProtocol, node.Telemetry.OtlpProtocol);
    }

    [Fact]
    public async Task The_shipped_appsettings_json_holds_the_defaults()
    {
        // The program's own appsettings.json, copied beside the tests from src/Streams.Server.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")));
        await using var node = StreamsNode.Create(new StreamsNodeSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentVariables = new Dictionary<string, string?>(),
        });

        var defaults = new NodeOptions();
        Assert.Equal(defaults.NodeId, node.Options.NodeId);
        Assert.Equal(defaults.DataDirectory, node.Options.DataDirectory);
        Assert.Equal(defaults.BindAddress, node.Options.BindAddress);
        Assert.Equal(defaults.GrpcPort, node.Options.GrpcPort);
        Assert.Equal(defaults.HttpPort, node.Options.HttpPort);
        Assert.Equal(defaults.MaxMessageSizeBytes, node.Options.MaxMessageSizeBytes);
        Assert.Equal(defaults.ShutdownTimeoutSeconds, node.Options.ShutdownTimeoutSeconds);
        Assert.False(node.Options.TlsEnabled);
        Assert.False(node.Telemetry.ExportEnabled);
    }

    [Fact]
    public async Task Command_line_beats_environment_which_beats_appsettings()
    {
        WriteSettings("""
            {
              "Node": { "NodeId": "from-json", "GrpcPort": 7501, "HttpPort": 7502, "DataDirectory": "json-data", "BindAddress": "0.0.0.0" }
            }
            """);
        var environment = new Dictionary<string, string?>
        {
            ["STREAMS_Node__GrpcPort"] = "7601",
            ["STREAMS_Node__HttpPort"] = "7602",
            ["STREAMS_Node__DataDirectory"] = "env-data",
            ["Node__NodeId"] = "no-prefix-is-ignored",
            ["STREAMS_REPO_ROOT"] = "/elsewhere",
        };

        await using var node = Create(["--grpc-port", "7701", "--Node:DataDirectory=cli-data"], environment);

        Assert.Equal("from-json", node.Options.NodeId);        // appsettings only
        Assert.Equal("0.0.0.0", node.Options.BindAddress);     // appsettings only
        Assert.Equal(7602, node.Options.HttpPort);              // environment over appsettings
        Assert.Equal(7701, node.Options.GrpcPort);              // command line over environment
        Assert.Equal("cli-data", node.Options.DataDirectory);   // command line (long form) over both
    }

    [Fact]
    public async Task Friendly_switches_set_their_keys()
    {
        await using var node = Create(
            ["--node-id", "n7", "--data-dir", "d7", "--host", "::1", "--grpc-port", "0", "--http-port=0", "--otlp-endpoint", "http://127.0.0.1:4318", "--log-format", "json"]);

        Assert.Equal("n7", node.Options.NodeId);
        Assert.Equal("d7", node.Options.DataDirectory);
        Assert.Equal("::1", node.Options.BindAddress);
        Assert.Equal(0, node.Options.GrpcPort);
        Assert.Equal(0, node.Options.HttpPort);
        Assert.Equal("http://127.0.0.1:4318", node.Telemetry.OtlpEndpoint);
    }

    [Fact]
    public async Task The_standard_otlp_variables_apply_when_no_endpoint_is_configured()
    {
        var environment = new Dictionary<string, string?>
        {
            [TelemetryOptions.StandardEndpointVariable] = "http://collector:4317",
            [TelemetryOptions.StandardProtocolVariable] = "grpc",
        };

        await using (var fromStandard = Create([], environment))
        {
            Assert.Equal("http://collector:4317", fromStandard.Telemetry.OtlpEndpoint);
            Assert.Equal(TelemetryOptions.GrpcProtocol, fromStandard.Telemetry.OtlpProtocol);
        }

        await using var configured = Create(["--otlp-endpoint", "http://mine:4318"], environment);
        Assert.Equal("http://mine:4318", configured.Telemetry.OtlpEndpoint);
        Assert.Equal(TelemetryOptions.HttpProtobufProtocol, configured.Telemetry.OtlpProtocol);
    }

    [Theory]
    [InlineData("Node:GrpcPort", "--grpc-port", "70000")]
    [InlineData("Node:HttpPort", "--http-port", "-1")]
    [InlineData("Node:NodeId", "--node-id", "")]
    [InlineData("Node:NodeId", "--node-id", "has space")]
    [InlineData("Node:BindAddress", "--bind", "not-an-address")]
    [InlineData("Node:TlsCertificatePath", "--tls-cert", "/no/such/cert.pfx")]
    [InlineData("Node:MaxMessageSizeBytes", "--Node:MaxMessageSizeBytes", "0")]
    [InlineData("Node:ShutdownTimeoutSeconds", "--Node:ShutdownTimeoutSeconds", "-5")]
    [InlineData("Node:GrpcPort", "--grpc-port", "abc")]
    [InlineData("Node:Typo", "--Node:Typo", "1")]
    [InlineData("Telemetry:OtlpEndpoint", "--otlp-endpoint", "not a url")]
    [InlineData("Telemetry:OtlpProtocol", "--Telemetry:OtlpProtocol", "thrift")]
    [InlineData("Logging:Format", "--log-format", "xml")]
    [InlineData("--grpc-prot", "--grpc-prot", "1")]
    [InlineData("--Nodes:GrpcPort", "--Nodes:GrpcPort", "1")]
    public void A_wrong_setting_is_named_in_the_error(string named, string option, string value)
    {
        var error = Assert.Throws<NodeConfigurationException>(() => Create([option, value]));

        var problem = Assert.Single(error.Problems);
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = Assert.Throws<NodeConfigurationException>(() => Create(["--grpc-port", "7000", "--http-port", "7000", "--log-format", "xml"]));

        Assert.Equal(2, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("need different ports", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("Logging:Format", StringComparison.Ordinal));
    }

    [Fact]
    public void Port_zero_may_be_given_to_both_listeners()
    {
        Assert.Empty(new NodeOptions { GrpcPort = 0, HttpPort = 0 }.Validate());
    }

    [Fact]
    public void Malformed_command_lines_are_refused()
    {
        var stray = Assert.Throws<NodeConfigurationException>(() => Create(["stray"]));
        Assert.Contains("Unexpected argument 'stray'", Assert.Single(stray.Problems), StringComparison.Ordinal);

        var missing = Assert.Throws<NodeConfigurationException>(() => Create(["--grpc-port"]));
        Assert.Contains("'--grpc-port' needs a value", Assert.Single(missing.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_without_a_certificate_is_refused()
    {
        var error = Assert.Throws<NodeConfigurationException>(
            () => Create([], new Dictionary<string, string?> { ["STREAMS_Node__TlsCertificatePassword"] = "secret" }));

        Assert.Contains("Node:TlsCertificatePassword", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_appsettings_json_is_reported()
    {
        WriteSettings("{ \"Node\": ");

        var error = Assert.Throws<NodeConfigurationException>(() => Create([]));

        Assert.Contains("appsettings.json", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void The_listening_line_has_a_stable_format()
    {
        var line = ListeningLine.Format(new Uri("http://127.0.0.1:41234/"), new Uri("https://[::1]:41235"));

        Assert.Equal("streams: listening grpc=http://127.0.0.1:41234 http=https://[::1]:41235", line);
        Assert.True(ListeningLine.TryParse(line, out var grpc, out var http));
        Assert.Equal(new Uri("http://127.0.0.1:41234"), grpc);
        Assert.Equal(new Uri("https://[::1]:41235"), http);
        Assert.False(ListeningLine.TryParse("info: something else", out _, out _));
    }

    private StreamsNode Create(string[] args, IReadOnlyDictionary<string, string?>? environment = null) =>
        StreamsNode.Create(new StreamsNodeSettings
        {
            Args = args,
            ContentRootPath = _root.Path,
            EnvironmentVariables = environment ?? new Dictionary<string, string?>(),
        });

    private void WriteSettings(string json) => File.WriteAllText(_root.Combine("appsettings.json"), json);
}
