using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Streams.Rpc.Server;

/// <summary>
/// Traces and metrics of served calls, named after the OpenTelemetry RPC conventions. Exporters
/// subscribe to <see cref="SourceName"/> (activities) and <see cref="SourceName"/> (meter).
/// </summary>
public sealed class RpcServerTelemetry : IDisposable
{
    /// <summary>The name of both the activity source and the meter.</summary>
    public const string SourceName = "Streams.Rpc";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public RpcServerTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(SourceName);
        _duration = _meter.CreateHistogram<double>("rpc.server.duration", unit: "ms", description: "Duration of served gRPC calls, by method and status code.");
    }

    /// <summary>The activity source of server calls.</summary>
    public ActivitySource ActivitySource { get; } = new(SourceName);

    /// <summary>
    /// Starts the span of one call, or returns null when nobody listens. Its parent is the caller's
    /// span from the <c>traceparent</c> header (W3C trace context), or none.
    /// </summary>
    public Activity? StartCall(string path, string? traceParent, string? traceState)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        if (traceParent is not null)
        {
            _ = ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent);
        }

        // ASP.NET Core's request activity is current here, but nobody records it: a span under it
        // would point at a parent no trace ever shows (and a parent-based sampler would drop it).
        var ambient = Activity.Current;
        Activity.Current = null;
        var activity = ActivitySource.StartActivity(path.TrimStart('/'), ActivityKind.Server, parent);
        if (activity is null)
        {
            Activity.Current = ambient;
            return null;
        }

        activity.SetTag("rpc.system", "grpc");
        var (service, method) = SplitPath(path);
        activity.SetTag("rpc.service", service);
        activity.SetTag("rpc.method", method);
        return activity;
    }

    /// <summary>Records the end of one call.</summary>
    public void EndCall(Activity? activity, string path, StatusCode code, TimeSpan elapsed)
    {
        if (activity is not null)
        {
            activity.SetTag("rpc.grpc.status_code", (int)code);
            if (code != StatusCode.OK)
            {
                activity.SetStatus(ActivityStatusCode.Error, code.ToString());
            }

            activity.Dispose();
        }

        if (_duration.Enabled)
        {
            var (service, method) = SplitPath(path);
            _duration.Record(
                elapsed.TotalMilliseconds,
                new KeyValuePair<string, object?>("rpc.service", service),
                new KeyValuePair<string, object?>("rpc.method", method),
                new KeyValuePair<string, object?>("rpc.grpc.status_code", (int)code));
        }
    }

    /// <summary>
    /// <c>/package.Service/Method</c> as its two parts. Only bound paths get here, so the values
    /// are a fixed, small set (unknown paths are not recorded: they would let any client add
    /// label values without bound).
    /// </summary>
    private static (string Service, string Method) SplitPath(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash > 0 ? (path[1..slash], path[(slash + 1)..]) : (string.Empty, path.TrimStart('/'));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ActivitySource.Dispose();
        _meter.Dispose();
    }
}
