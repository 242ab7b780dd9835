using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Streams.Rpc.Health;

namespace Streams.Rpc.Server;

/// <summary>Wires the gRPC server into an ASP.NET Core host.</summary>
public static class RpcHostingExtensions
{
    /// <summary>
    /// Adds the gRPC server with its options, and the standard health service
    /// (<c>grpc.health.v1.Health</c>) that every server answers.
    /// </summary>
    public static IServiceCollection AddStreamsRpc(this IServiceCollection services, Action<RpcServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RpcServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o =>
        {
            o.Validate();
            return true;
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<RpcServerTelemetry>();
        services.TryAddSingleton<RpcRequestDispatcher>();
        services.TryAddSingleton<HealthStatusRegistry>();
        services.AddRpcService<HealthService>();
        return services;
    }

    /// <summary>Registers a gRPC service (a singleton) so the server routes its methods.</summary>
    public static IServiceCollection AddRpcService<TService>(this IServiceCollection services)
        where TService : class, IRpcService
    {
        services.TryAddSingleton<TService>();
        services.AddSingleton<IRpcService>(sp => sp.GetRequiredService<TService>());
        return services;
    }

    /// <summary>Serves gRPC calls; other requests go on down the pipeline.</summary>
    public static IApplicationBuilder UseStreamsRpc(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var dispatcher = app.ApplicationServices.GetRequiredService<RpcRequestDispatcher>();
        return app.Use(next => context => dispatcher.Accepts(context) ? dispatcher.HandleAsync(context) : next(context));
    }

    /// <summary>
    /// HTTP/2 limits suited to gRPC: larger flow-control windows than Kestrel's defaults, so a
    /// single stream can fill a fast link, and keepalive pings that find dead clients.
    /// </summary>
    public static KestrelServerOptions ConfigureHttp2ForRpc(this KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
        options.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
        options.Limits.Http2.MaxStreamsPerConnection = 256;
        options.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
        options.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        options.Limits.MinRequestBodyDataRate = null;
        options.Limits.MinResponseDataRate = null;
        return options;
    }
}
