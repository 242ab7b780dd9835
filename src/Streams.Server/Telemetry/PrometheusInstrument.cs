using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Streams.Server.Telemetry;

/// <summary>
/// The in-memory aggregate of one instrument: its Prometheus name, type and help, and one
/// <see cref="PrometheusSeries"/> per label set.
/// </summary>
/// <remarks>
/// A measurement finds its series in a concurrent dictionary keyed by the tags in the order they
/// were given, searched with the measurement's span (no allocation once the series exists). A
/// new tag list takes the slow path under a lock: its labels are sorted and rendered, and tag
/// lists that render alike (the same tags in another order) share one series. Past
/// <see cref="MaxSeries"/> label sets, further ones go to a single series labelled
/// <c>otel_metric_overflow="true"</c>, so a runaway tag cannot exhaust memory.
/// </remarks>
internal sealed class PrometheusInstrument
{
    /// <summary>The most label sets one instrument keeps.</summary>
    public const int MaxSeries = 2000;

    /// <summary>The labels of the series that takes measurements beyond <see cref="MaxSeries"/>.</summary>
    public const string OverflowLabels = "otel_metric_overflow=\"true\"";

    private readonly ConcurrentDictionary<KeyValuePair<string, object?>[], PrometheusSeries> _byTags = new(PrometheusTagListComparer.Instance);
    private readonly ConcurrentDictionary<KeyValuePair<string, object?>[], PrometheusSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Dictionary<string, PrometheusSeries> _byLabels = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly PrometheusBuckets? _buckets;
    private readonly Action<PrometheusInstrument>? _onOverflow;
    private readonly bool _lastValue;
    private PrometheusSeries? _overflow;

    /// <summary>Describes how <paramref name="instrument"/> is exposed.</summary>
    public PrometheusInstrument(Instrument instrument, PrometheusMetricType type, PrometheusBuckets? buckets, long sequence, Action<PrometheusInstrument>? onOverflow = null)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        Instrument = instrument;
        Type = type;
        Sequence = sequence;
        IsObservable = instrument.IsObservable;
        Name = PrometheusNames.MetricName(instrument.Name, instrument.Unit, type);
        Help = instrument.Description;
        _buckets = type == PrometheusMetricType.Histogram
            ? buckets ?? throw new ArgumentNullException(nameof(buckets), "A histogram needs buckets.")
            : null;
        _onOverflow = onOverflow;
        _lastValue = IsObservable || (instrument.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(Gauge<>));
        _lookup = _byTags.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    /// <summary>The instrument aggregated.</summary>
    public Instrument Instrument { get; }

    /// <summary>The metric name written (with unit and <c>_total</c> suffixes).</summary>
    public string Name { get; }

    /// <summary>The <c># TYPE</c> of the metric.</summary>
    public PrometheusMetricType Type { get; }

    /// <summary>The instrument's description, written as <c># HELP</c>; null or empty writes none.</summary>
    public string? Help { get; }

    /// <summary>Whether the values come from callbacks, collected at each scrape.</summary>
    public bool IsObservable { get; }

    /// <summary>The order in which instruments were published, for a stable output.</summary>
    public long Sequence { get; }

    /// <summary>Records an integral measurement.</summary>
    public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) => Find(tags).Record(value);

    /// <summary>Records a floating-point measurement.</summary>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) => Find(tags).Record(value);

    /// <summary>Forgets every series (observable instruments, before their callbacks report afresh).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _byTags.Clear();
            _byLabels.Clear();
            _overflow = null;
        }
    }

    /// <summary>The series, ordered by their labels.</summary>
    public IReadOnlyList<PrometheusSeries> Snapshot()
    {
        lock (_gate)
        {
            var series = new List<PrometheusSeries>(_byLabels.Count + 1);
            series.AddRange(_byLabels.Values);
            if (_overflow is not null)
            {
                series.Add(_overflow);
            }

            series.Sort((a, b) => string.CompareOrdinal(a.Labels, b.Labels));
            return series;
        }
    }

    private PrometheusSeries Find(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _lookup.TryGetValue(tags, out var series) ? series : Add(tags);

    private PrometheusSeries Add(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = RenderLabels(tags);
        lock (_gate)
        {
            if (_byLabels.TryGetValue(labels, out var existing))
            {
                _lookup.TryAdd(tags, existing);
                return existing;
            }

            if (_byLabels.Count >= MaxSeries)
            {
                // Not remembered by tags either: the overflow must stay bounded too.
                if (_overflow is null)
                {
                    _overflow = Create(OverflowLabels);
                    _onOverflow?.Invoke(this);
                }

                return _overflow;
            }

            var created = Create(labels);
            _byLabels.Add(labels, created);
            _lookup.TryAdd(tags, created);
            return created;
        }
    }

    private PrometheusSeries Create(string labels) => Type switch
    {
        PrometheusMetricType.Histogram => new PrometheusHistogramSeries(labels, _buckets!),
        _ when _lastValue => new PrometheusLastValueSeries(labels),
        _ => new PrometheusSumSeries(labels),
    };

    /// <summary>
    /// Renders tags as sorted <c>name="value"</c> pairs. Tags whose keys sanitize to the same
    /// label name are joined into one label, their values separated by <c>;</c> in key order.
    /// </summary>
    internal static string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }

        var pairs = new List<(string Name, string Key, string Value)>(tags.Length);
        foreach (var tag in tags)
        {
            pairs.Add((PrometheusNames.LabelName(tag.Key), tag.Key ?? string.Empty, PrometheusText.FormatTagValue(tag.Value)));
        }

        pairs.Sort((a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Key, b.Key);
        });

        var builder = new StringBuilder();
        for (var i = 0; i < pairs.Count; i++)
        {
            var (name, _, value) = pairs[i];
            if (i > 0 && pairs[i - 1].Name == name)
            {
                // Same label name as the previous tag: reopen its value and append this one.
                builder.Length -= 1;
                builder.Append(';');
                PrometheusText.AppendLabelValue(builder, value).Append('"');
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(name).Append("=\"");
            PrometheusText.AppendLabelValue(builder, value).Append('"');
        }

        return builder.ToString();
    }
}
