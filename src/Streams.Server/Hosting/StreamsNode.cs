using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging.Console;
using Streams.Rpc.Health;
using Streams.Rpc.Server;
using System.Diagnostics.Metrics;
using Streams.Raft.Transport;
using Streams.Server.Api;
using Streams.Server.Cluster;
using Streams.Server.Configuration;
using Streams.Server.Controller;
using Streams.Server.Firehose;
using Streams.Server.Telemetry;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Hosting;

/// <summary>
/// One Streams node: a web host with a gRPC listener and an HTTP listener, built from the
/// command line and configuration. <see cref="Create(string[])"/> reads and checks the
/// configuration (a <see cref="NodeConfigurationException"/> says what is wrong);
/// <see cref="StartAsync"/> binds the listeners, after which <see cref="GrpcAddress"/> and
/// <see cref="HttpAddress"/> are the bound addresses (port 0 resolved). Tests start nodes
/// in-process this way; <c>Program</c> does the same and waits for SIGTERM or Ctrl-C.
/// </summary>
public sealed class StreamsNode : IAsyncDisposable
{
    private const int Created = 0;
    private const int Starting = 1;
    private const int Started = 2;

    private readonly WebApplication _app;
    private readonly NodeListeners _listeners;
    private readonly X509Certificate2? _certificate;
    private readonly ILogger _logger;
    private int _state;

    private StreamsNode(WebApplication app, NodeListeners listeners, X509Certificate2? certificate, NodeSettings settings)
    {
        _app = app;
        _listeners = listeners;
        _certificate = certificate;
        Options = settings.Node;
        Telemetry = settings.Telemetry;
        DataDirectory = Path.GetFullPath(settings.Node.DataDirectory);
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Streams.Server.Node");
    }

    /// <summary>The node's settings (section <c>Node</c>).</summary>
    public NodeOptions Options { get; }

    /// <summary>The telemetry settings (section <c>Telemetry</c>), with OTEL_ variables applied.</summary>
    public TelemetryOptions Telemetry { get; }

    /// <summary>The absolute path of the data directory; it exists once the node started.</summary>
    public string DataDirectory { get; }

    /// <summary>The web application underneath.</summary>
    public WebApplication App => _app;

    /// <summary>The node's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The node's part in the cluster: Raft groups, shard replicas, metadata.</summary>
    internal StreamsCluster Cluster => _app.Services.GetRequiredService<StreamsCluster>();

    /// <summary>The health statuses served by <c>grpc.health.v1.Health</c> and <c>/readyz</c>.</summary>
    public HealthStatusRegistry Health => _app.Services.GetRequiredService<HealthStatusRegistry>();

    /// <summary>The bound gRPC address, such as <c>http://127.0.0.1:7400</c>; available once started.</summary>
    public Uri GrpcAddress => _listeners.GrpcAddress;

    /// <summary>The bound HTTP address, such as <c>http://127.0.0.1:7401</c>; available once started.</summary>
    public Uri HttpAddress => _listeners.HttpAddress;

    /// <summary>The line the program prints once started (see <see cref="Hosting.ListeningLine"/>).</summary>
    public string ListeningLine => Hosting.ListeningLine.Format(GrpcAddress, HttpAddress);

    /// <summary>Creates a node from command-line arguments, with the process's environment and the program's appsettings.json.</summary>
    public static StreamsNode Create(params string[] args) => Create(new StreamsNodeSettings { Args = args });

    /// <summary>Creates a node; throws <see cref="NodeConfigurationException"/> when the configuration is wrong.</summary>
    public static StreamsNode Create(StreamsNodeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var environment = settings.EnvironmentVariables ?? NodeConfiguration.ProcessEnvironment();
        var contentRoot = Path.GetFullPath(settings.ContentRootPath ?? AppContext.BaseDirectory);
        var environmentName = Variable(environment, "DOTNET_ENVIRONMENT") ?? Variable(environment, "ASPNETCORE_ENVIRONMENT") ?? Environments.Production;

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(StreamsNode).Assembly.GetName().Name,
            ContentRootPath = contentRoot,
            EnvironmentName = environmentName,
        });
        var loaded = NodeConfiguration.Load(builder.Configuration, contentRoot, environmentName, environment, settings.Args);
        var certificate = CertificateLoader.Load(loaded.Node);
        try
        {
            var node = loaded.Node;
            ConfigureLogging(builder.Logging, builder.Configuration.GetSection("Logging"), loaded.LogFormat);
            var listeners = new NodeListeners(node.ResolveBindAddress(), node.GrpcPort, node.HttpPort, certificate);
            builder.WebHost.UseKestrelCore().ConfigureKestrel(listeners.Configure);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(node.ShutdownTimeoutSeconds));
            builder.Services.AddSingleton(node);
            builder.Services.AddSingleton(loaded.Telemetry);
            builder.Services.AddHostedService<TelemetryService>();
            builder.Services.AddSingleton<PrometheusExposition>();
            builder.Services.AddHostedService(services => services.GetRequiredService<PrometheusExposition>());
            builder.Services.AddStreamsRpc(rpc =>
            {
                rpc.MaxReceiveMessageSizeBytes = node.MaxMessageSizeBytes;
                rpc.MaxSendMessageSizeBytes = node.MaxMessageSizeBytes;
            });
            builder.Services.AddSingleton<HttpEndpoints>();
            AddCluster(builder.Services, loaded);

            var app = builder.Build();
            ConfigurePipeline(app);
            return new StreamsNode(app, listeners, certificate, loaded);
        }
        catch
        {
            certificate?.Dispose();
            throw;
        }
    }

    /// <summary>Creates the data directory and starts both listeners; returns once they are bound.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, Starting, Created) != Created)
        {
            throw new InvalidOperationException("The node was already started; create a new node to start again.");
        }

        Directory.CreateDirectory(DataDirectory);
        NodeLog.Starting(_logger, Options.NodeId, DataDirectory, _app.Environment.EnvironmentName);
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(OnStopping);
        lifetime.ApplicationStopped.Register(() => NodeLog.Stopped(_logger, Options.NodeId));

        await _app.StartAsync(cancellationToken);
        Volatile.Write(ref _state, Started);

        // The cluster starts once the gRPC listener is bound: its address (port 0 resolved) is
        // what the node advertises when no other is configured.
        await Cluster.StartAsync(DataDirectory, GrpcAddress, cancellationToken);
        var workers = _app.Services.GetRequiredService<DeliveryWorkers>();
        workers.Start(Cluster.Address ?? GrpcAddress, DataDirectory);
        lifetime.ApplicationStopping.Register(() => _ = workers.StopAsync(CancellationToken.None));
        if (_certificate is { } certificate && _logger.IsEnabled(LogLevel.Information))
        {
            var notAfter = certificate.NotAfter.ToUniversalTime();
            NodeLog.TlsEnabled(_logger, certificate.Subject, certificate.Thumbprint, notAfter);
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            var grpc = GrpcAddress.GetLeftPart(UriPartial.Authority);
            var http = HttpAddress.GetLeftPart(UriPartial.Authority);
            NodeLog.Serving(_logger, Options.NodeId, grpc, http);
        }
    }

    /// <summary>
    /// Waits until the node is asked to stop (SIGTERM, Ctrl-C, or
    /// <see cref="IHostApplicationLifetime.StopApplication"/>), then stops it gracefully.
    /// </summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>
    /// Stops gracefully: readiness turns NOT_SERVING, the listeners stop accepting, calls in
    /// flight get <see cref="NodeOptions.ShutdownTimeoutSeconds"/> to finish, then telemetry is flushed.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        if (Volatile.Read(ref _state) == Started && !lifetime.ApplicationStopped.IsCancellationRequested)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    /// <summary>Stops the node if it runs, and releases everything it holds.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            // The container disposes the cluster (Raft groups, replicas) after the listeners stopped.
            await StopAsync();
            await _app.DisposeAsync();
        }
        finally
        {
            _certificate?.Dispose();
        }
    }

    private void OnStopping()
    {
        Health.SetStatus(string.Empty, ServingStatus.NotServing);
        NodeLog.Stopping(_logger, Options.NodeId);
    }

    private static void AddCluster(IServiceCollection services, NodeSettings settings)
    {
        var relay = new RaftMessageRelay();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(settings.Cluster);
        services.AddSingleton(settings.Limits);
        services.AddSingleton(relay);
        services.AddRaftTransport(relay);
        services.AddSingleton(sp => new StreamsCluster(
            settings.Node,
            settings.Cluster,
            settings.Limits,
            relay,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<IMeterFactory>()));
        services.AddSingleton<StreamAdministration>();
        services.AddSingleton<RecordWriter>();
        services.AddSingleton<RecordFetcher>();
        services.AddSingleton<StreamsApiMetrics>();
        services.AddSingleton<ConsumerGroupCoordinator>();
        services.AddRpcService<StreamsService>();
        services.AddRpcService<ConsumersService>();
        services.AddSingleton<DeliveryStreamAdministration>();
        services.AddRpcService<FirehoseService>();
        services.AddSingleton(settings.Firehose);
        services.AddSingleton<DeliveryMetrics>();
        services.AddSingleton<DeliveryWorkers>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryWorkers>());
        services.AddRpcService<ClusterService>();
        services.AddRpcService<ControllerPeerService>();
    }

    private static void ConfigurePipeline(WebApplication app)
    {
        // Each listener gets its own pipeline: gRPC only on the gRPC port, health and metrics
        // only on the HTTP port, whatever ports they were given.
        var endpoints = app.Services.GetRequiredService<HttpEndpoints>();
        app.MapWhen(context => ListenerFeature.Of(context) == ListenerKind.Grpc, grpc =>
        {
            grpc.UseStreamsRpc();
            grpc.Run(HttpEndpoints.NotFoundAsync);
        });
        app.MapWhen(context => ListenerFeature.Of(context) == ListenerKind.Http, http => http.Run(endpoints.InvokeAsync));
        app.Run(HttpEndpoints.NotFoundAsync);
    }

    private static void ConfigureLogging(ILoggingBuilder logging, IConfigurationSection section, LogFormat format)
    {
        const string Timestamp = "yyyy-MM-ddTHH:mm:ss.fffZ";
        logging.ClearProviders();
        logging.AddConfiguration(section);
        if (format == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = Timestamp;
                o.IncludeScopes = true;
                o.JsonWriterOptions = new JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = Timestamp + " ";
                o.SingleLine = true;
            });
        }

        // Standard output carries only the listening line; every log entry goes to standard error.
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static string? Variable(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}
