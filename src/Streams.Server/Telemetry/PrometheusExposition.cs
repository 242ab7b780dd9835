using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// The node's metrics in the Prometheus text format (version 0.0.4), served at <c>/metrics</c>
/// on the HTTP listener. A <see cref="MeterListener"/> subscribes to every instrument of every
/// meter named <c>Streams.*</c> and aggregates measurements in memory, per instrument and label
/// set; <see cref="Scrape"/> collects the observable instruments and renders the text.
/// </summary>
/// <remarks>
/// <para>Always on, whatever the OTLP configuration: a hosted service that starts listening
/// when the host starts and stops (and forgets) when it stops.</para>
/// <para>Mapping: <c>Counter</c> and <c>ObservableCounter</c> → <c>counter</c> (name ends in
/// <c>_total</c>); <c>UpDownCounter</c>, <c>ObservableUpDownCounter</c>, <c>Gauge</c> and
/// <c>ObservableGauge</c> → <c>gauge</c>; <c>Histogram</c> → <c>histogram</c> with cumulative
/// <c>_bucket{le=...}</c>, <c>_sum</c> and <c>_count</c>, over the instrument's advised bucket
/// boundaries or <see cref="PrometheusBuckets.DefaultMilliseconds"/>. Names follow
/// <see cref="PrometheusNames"/>. A metric name belongs to the first instrument published with
/// it: a later instrument whose name maps to the same metric name (<c>a.b</c> and <c>a_b</c>,
/// or the same name in two meters) is left out, with a warning, since merging could repeat a
/// label set or mix types.</para>
/// <para>Only meters of this node are exposed: those created by its <see cref="IMeterFactory"/>,
/// and process-wide meters created without a factory (no scope). Other nodes in the same process
/// (tests) have their own factories, so their measurements stay out.</para>
/// </remarks>
internal sealed class PrometheusExposition : IHostedService, IDisposable
{
    /// <summary>The prefix of the meters exposed.</summary>
    public const string MeterPrefix = "Streams.";

    private readonly Func<Meter, bool> _scope;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Instrument, PrometheusInstrument> _instruments = new();
    private readonly HashSet<Instrument> _conflictsReported = [];
    private readonly Lock _gate = new();
    private MeterListener? _listener;
    private long _sequence;
    private bool _disposed;

    /// <summary>Exposes the meters of the node whose meter factory is <paramref name="meterFactory"/>.</summary>
    public PrometheusExposition(IMeterFactory meterFactory, ILogger<PrometheusExposition> logger)
        : this(meter => meter.Scope is null || ReferenceEquals(meter.Scope, meterFactory), logger)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
    }

    /// <summary>Exposes the <c>Streams.*</c> meters for which <paramref name="scope"/> is true.</summary>
    internal PrometheusExposition(Func<Meter, bool> scope, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(logger);
        _scope = scope;
        _logger = logger;
    }

    /// <summary>Starts listening: existing and future instruments of the meters exposed are aggregated from now on.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null)
            {
                return;
            }

            var listener = new MeterListener
            {
                InstrumentPublished = OnInstrumentPublished,
                MeasurementsCompleted = OnMeasurementsCompleted,
            };
            listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
            listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
            listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
            listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
            listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
            listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
            listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record((double)value, tags));
            _listener = listener;
            listener.Start();
        }
    }

    /// <summary>Stops listening and forgets every aggregate; a scrape then returns nothing.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            var listener = _listener;
            _listener = null;
            listener?.Dispose();
            _instruments.Clear();
            _conflictsReported.Clear();
        }
    }

    /// <summary>
    /// Collects the observable instruments and renders every metric: families ordered by name,
    /// series by labels. A failing observable callback is logged; the rest is still rendered.
    /// </summary>
    public string Scrape()
    {
        lock (_gate)
        {
            var listener = _listener;
            if (listener is null)
            {
                return string.Empty;
            }

            var instruments = _instruments.Values.ToArray();
            foreach (var instrument in instruments)
            {
                if (instrument.IsObservable)
                {
                    instrument.Clear();
                }
            }

            try
            {
                listener.RecordObservableInstruments();
            }
            catch (AggregateException failure)
            {
                TelemetryLog.ObservableCallbackFailed(_logger, failure.InnerExceptions.Count, failure);
            }

            Array.Sort(instruments, static (a, b) =>
            {
                var byName = string.CompareOrdinal(a.Name, b.Name);
                return byName != 0 ? byName : a.Sequence.CompareTo(b.Sequence);
            });
            return Render(instruments);
        }
    }

    /// <inheritdoc />
    Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        Stop();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        Stop();
    }

    private string Render(PrometheusInstrument[] instruments)
    {
        var builder = new StringBuilder(4096);
        PrometheusInstrument? owner = null;
        foreach (var instrument in instruments)
        {
            if (owner is not null && instrument.Name == owner.Name)
            {
                // Two families of one name, or one family fed by two instruments whose series
                // could repeat a label set: neither is valid, so the first instrument keeps the name.
                if (_conflictsReported.Add(instrument.Instrument))
                {
                    TelemetryLog.MetricNameConflict(_logger, instrument.Instrument.Meter.Name, instrument.Instrument.Name, instrument.Name, owner.Instrument.Meter.Name, owner.Instrument.Name);
                }

                continue;
            }

            owner = instrument;
            var series = instrument.Snapshot();
            if (series.Count == 0)
            {
                continue;
            }

            if (!string.IsNullOrEmpty(instrument.Help))
            {
                builder.Append("# HELP ").Append(instrument.Name).Append(' ');
                PrometheusText.AppendHelp(builder, instrument.Help).Append('\n');
            }

            builder.Append("# TYPE ").Append(instrument.Name).Append(' ').Append(TypeName(instrument.Type)).Append('\n');
            foreach (var one in series)
            {
                one.Write(builder, instrument.Name);
            }
        }

        return builder.ToString();
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var meter = instrument.Meter;
        if (!meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal) || !_scope(meter) || TypeOf(instrument) is not { } type)
        {
            return;
        }

        var buckets = type == PrometheusMetricType.Histogram ? PrometheusBuckets.For(AdvisedBounds(instrument), instrument.Unit) : null;
        var state = new PrometheusInstrument(instrument, type, buckets, Interlocked.Increment(ref _sequence), OnOverflow);
        if (_instruments.TryAdd(instrument, state))
        {
            listener.EnableMeasurementEvents(instrument, state);
        }
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state) => _instruments.TryRemove(instrument, out _);

    private void OnOverflow(PrometheusInstrument instrument) =>
        TelemetryLog.MetricSeriesOverflow(_logger, instrument.Instrument.Meter.Name, instrument.Instrument.Name, PrometheusInstrument.MaxSeries);

    /// <summary>The Prometheus type of an instrument, or null for kinds this exposition does not know.</summary>
    internal static PrometheusMetricType? TypeOf(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            return PrometheusMetricType.Counter;
        }

        if (definition == typeof(UpDownCounter<>) || definition == typeof(ObservableUpDownCounter<>)
            || definition == typeof(Gauge<>) || definition == typeof(ObservableGauge<>))
        {
            return PrometheusMetricType.Gauge;
        }

        return definition == typeof(Histogram<>) ? PrometheusMetricType.Histogram : null;
    }

    private static IEnumerable<double>? AdvisedBounds(Instrument instrument) => instrument switch
    {
        Instrument<double> i => i.Advice?.HistogramBucketBoundaries,
        Instrument<float> i => i.Advice?.HistogramBucketBoundaries?.Select(static v => (double)v),
        Instrument<long> i => i.Advice?.HistogramBucketBoundaries?.Select(static v => (double)v),
        Instrument<int> i => i.Advice?.HistogramBucketBoundaries?.Select(static v => (double)v),
        Instrument<short> i => i.Advice?.HistogramBucketBoundaries?.Select(static v => (double)v),
        Instrument<byte> i => i.Advice?.HistogramBucketBoundaries?.Select(static v => (double)v),
        Instrument<decimal> i => i.Advice?.HistogramBucketBoundaries?.Select(static v => (double)v),
        _ => null,
    };

    private static string TypeName(PrometheusMetricType type) => type switch
    {
        PrometheusMetricType.Counter => "counter",
        PrometheusMetricType.Histogram => "histogram",
        _ => "gauge",
    };
}
