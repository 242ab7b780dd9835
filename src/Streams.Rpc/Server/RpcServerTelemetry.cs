using System.Collections.Concurrent;
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

    // Per bound path, split once: every call records these, and /metrics keeps the histogram on.
    // Only bound paths get here, so the set is small and fixed (unknown paths are not recorded:
    // they would let any client add label values without bound).
    private readonly ConcurrentDictionary<string, CallNames> _names = new(StringComparer.Ordinal);

    // The status codes as tag values, boxed once rather than on every call.
    private readonly object[] _statusCodes = [.. Enum.GetValues<StatusCode>().Select(code => (object)(int)code)];

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
        var names = NamesOf(path);
        var activity = ActivitySource.StartActivity(names.DisplayName, ActivityKind.Server, parent);
        if (activity is null)
        {
            Activity.Current = ambient;
            return null;
        }

        activity.SetTag("rpc.system", "grpc");
        activity.SetTag("rpc.service", names.Service);
        activity.SetTag("rpc.method", names.Method);
        return activity;
    }

    /// <summary>Records the end of one call.</summary>
    public void EndCall(Activity? activity, string path, StatusCode code, TimeSpan elapsed)
    {
        if (activity is not null)
        {
            activity.SetTag("rpc.grpc.status_code", _statusCodes[(int)code]);
            if (code != StatusCode.OK)
            {
                activity.SetStatus(ActivityStatusCode.Error, code.ToString());
            }

            activity.Dispose();
        }

        if (_duration.Enabled)
        {
            var names = NamesOf(path);
            _duration.Record(
                elapsed.TotalMilliseconds,
                new KeyValuePair<string, object?>("rpc.service", names.Service),
                new KeyValuePair<string, object?>("rpc.method", names.Method),
                new KeyValuePair<string, object?>("rpc.grpc.status_code", _statusCodes[(int)code]));
        }
    }

    private CallNames NamesOf(string path) => _names.GetOrAdd(path, static p =>
    {
        // "/package.Service/Method": the span's name without the leading slash, and its two parts.
        var slash = p.LastIndexOf('/');
        return slash > 0 ? new CallNames(p[1..], p[1..slash], p[(slash + 1)..]) : new CallNames(p.TrimStart('/'), string.Empty, p.TrimStart('/'));
    });

    private sealed record CallNames(string DisplayName, string Service, string Method);

    /// <inheritdoc />
    public void Dispose()
    {
        ActivitySource.Dispose();
        _meter.Dispose();
    }
}
