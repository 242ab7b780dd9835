namespace Streams.Server.Telemetry;

/// <summary>The Prometheus metric types the exposition writes in <c># TYPE</c> lines.</summary>
internal enum PrometheusMetricType
{
    /// <summary>A monotonic total (<c>Counter</c>, <c>ObservableCounter</c>); the name ends in <c>_total</c>.</summary>
    Counter,

    /// <summary>A value that goes up and down (up-down counters, gauges).</summary>
    Gauge,

    /// <summary>Cumulative buckets, a sum and a count (<c>Histogram</c>).</summary>
    Histogram,
}
