using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Streams.Load.Measuring;
using Streams.Load.Reporting;

namespace Streams.Load.Engine;

/// <summary>
/// Runs one scenario against one target: a warm-up that is not counted, then the measured time,
/// open loop (each operation at its intended time from <see cref="OpenLoopSchedule"/>, latency
/// from that time to the acknowledgement, however late it was sent) or closed loop (a fixed number
/// of virtual producers, each sending when its last operation completed). Latencies go to an HDR
/// histogram, and per interval to a timeline; a progress line shows the run as it goes.
/// </summary>
internal sealed class LoadRunner(LoadProfile profile, Action<string>? progress = null)
{
    /// <summary>How long the run waits at the end for operations still in flight before counting them as failed.</summary>
    public static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(30);

    private static readonly double _nanosPerTick = 1e9 / Stopwatch.Frequency;

    private readonly IntervalRecorder _latencies = new();
    private readonly ConcurrentDictionary<string, long> _errorKinds = new(StringComparer.Ordinal);
    private long _start;
    private long _measuredStart;
    private long _measuredEnd;
    private long _intervalOperations;
    private long _measuredOperations;
    private long _errors;
    private long _inFlight;
    private int _recordsPerOperation = 1;

    public async Task<ScenarioOutcome> RunAsync(string key, LoadTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        profile.Validate();
        _recordsPerOperation = target.RecordsPerOperation;
        await target.StartAsync(cancellationToken).ConfigureAwait(false);
        _start = Stopwatch.GetTimestamp();
        _measuredStart = _start + Ticks(profile.Warmup.TotalSeconds);
        _measuredEnd = _measuredStart + Ticks(profile.Duration.TotalSeconds);
        var timeline = new List<TimelinePoint>();
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = SampleAsync(key, timeline, sampling.Token);
        var notes = new List<string>();
        try
        {
            if (profile.Pacing == PacingKind.ClosedLoop)
            {
                await RunClosedLoopAsync(target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var unfinished = await RunOpenLoopAsync(target, cancellationToken).ConfigureAwait(false);
                if (unfinished > 0)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"{unfinished:N0} operations were still unanswered {DrainLimit.TotalSeconds:F0} s after the run and count as errors."));
                }
            }
        }
        finally
        {
            await sampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
        }

        var total = _latencies.Total;
        var operations = Interlocked.Read(ref _measuredOperations);
        var records = operations * _recordsPerOperation;
        var seconds = profile.Duration.TotalSeconds;
        foreach (var (kind, count) in _errorKinds.OrderByDescending(e => e.Value).Take(5))
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{count:N0} x {kind}"));
        }

        var offered = profile.Pacing == PacingKind.ClosedLoop ? 0 : profile.Rate * _recordsPerOperation;

        // A ramp offers its mean rate over the measured time, not its end rate.
        var offeredMean = profile.Pacing == PacingKind.Ramp ? (profile.RampFrom + profile.Rate) / 2 * _recordsPerOperation : offered;
        if (offeredMean > 0 && records / seconds < offeredMean * 0.95)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"acknowledged {records / seconds:N0} records/s of the {offeredMean:N0}/s offered on average: the target fell behind, and its latency includes the queue that built up."));
        }

        return new ScenarioOutcome(
            key,
            target.System,
            target.Setup,
            target.Workload,
            profile.Describe(_recordsPerOperation == 1 ? "records" : "operations"),
            target.Guarantee,
            target.RecordBytes,
            offered,
            records / seconds,
            records * (double)target.RecordBytes / seconds / 1e6,
            operations,
            records,
            Interlocked.Read(ref _errors),
            profile.Duration,
            profile.Warmup,
            Summarize(total),
            timeline,
            notes);
    }

    /// <summary>The percentiles of a histogram of nanoseconds, in milliseconds.</summary>
    public static LatencySummary Summarize(LatencyHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Count == 0)
        {
            return LatencySummary.Empty;
        }

        static double Ms(long nanos) => nanos / 1e6;
        return new LatencySummary(
            Ms(histogram.ValueAtPercentile(50)),
            Ms(histogram.ValueAtPercentile(90)),
            Ms(histogram.ValueAtPercentile(99)),
            Ms(histogram.ValueAtPercentile(99.9)),
            Ms(histogram.Max),
            histogram.Mean / 1e6,
            histogram.Count);
    }

    private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    private async Task RunClosedLoopAsync(LoadTarget target, CancellationToken cancellationToken)
    {
        long next = -1;
        var workers = Enumerable.Range(0, profile.VirtualProducers).Select(producer => Task.Run(
            async () =>
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    if (started >= _measuredEnd)
                    {
                        return;
                    }

                    var operation = Interlocked.Increment(ref next);
                    try
                    {
                        await target.SendAsync(producer, operation, cancellationToken).ConfigureAwait(false);
                        Completed(started, Stopwatch.GetTimestamp(), counted: started >= _measuredStart);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
#pragma warning disable CA1031 // A failed operation is counted and the worker goes on, as a client would.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        Failed(ex, counted: started >= _measuredStart);
                        await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                    }
                }
            },
            CancellationToken.None)).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    // Returns how many operations were still in flight when the drain limit ran out.
    private async Task<long> RunOpenLoopAsync(LoadTarget target, CancellationToken cancellationToken)
    {
        var schedule = new OpenLoopSchedule(profile);
        var dispatcher = Task.Factory.StartNew(() => Dispatch(target, schedule, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await dispatcher.ConfigureAwait(false);
        var drainStart = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref _inFlight) > 0 && Stopwatch.GetElapsedTime(drainStart) < DrainLimit)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        var unfinished = Interlocked.Read(ref _inFlight);
        Interlocked.Add(ref _errors, unfinished);
        return unfinished;
    }

    // A dedicated thread: waits towards the next operation's time (Pace) and starts every operation
    // that is due; past MaxInFlight it waits, and the wait shows in the latency of what it held back.
    private void Dispatch(LoadTarget target, OpenLoopSchedule schedule, CancellationToken cancellationToken)
    {
        long next = 0;
        var spinner = default(SpinWait);
        while (next < schedule.TotalOperations && !cancellationToken.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            var due = schedule.DueBy((now - _start) / (double)Stopwatch.Frequency);
            var started = false;
            while (next < due && Interlocked.Read(ref _inFlight) < profile.MaxInFlight)
            {
                var intended = _start + Ticks(schedule.IntendedSeconds(next));
                Interlocked.Increment(ref _inFlight);
#pragma warning disable CA2012 // Not awaited on purpose: the dispatcher must not wait; _inFlight tracks it, and it cannot throw.
                _ = TrackAsync(target, next, intended, counted: next >= schedule.WarmupOperations, cancellationToken);
#pragma warning restore CA2012
                next++;
                started = true;
            }

            if (started || next >= schedule.TotalOperations)
            {
                spinner.Reset();
                continue;
            }

            if (next < due)
            {
                // At MaxInFlight: wait for completions.
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            Pace.WaitTowards(_start + Ticks(schedule.IntendedSeconds(next)));
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TrackAsync(LoadTarget target, long operation, long intended, bool counted, CancellationToken cancellationToken)
    {
        try
        {
            await target.SendAsync((int)(operation % profile.VirtualProducers), operation, cancellationToken).ConfigureAwait(false);
            Completed(intended, Stopwatch.GetTimestamp(), counted);
        }
#pragma warning disable CA1031 // A failed operation is counted; the schedule goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                Failed(ex, counted);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Completed(long from, long to, bool counted)
    {
        if (!counted)
        {
            return;
        }

        _latencies.Record((long)((to - from) * _nanosPerTick));
        Interlocked.Increment(ref _intervalOperations);
        // Throughput counts what completed within the measured time: an open loop's target that fell
        // behind finishes the rest while draining, which must not count as keeping up.
        if (to <= _measuredEnd)
        {
            Interlocked.Increment(ref _measuredOperations);
        }
    }

    private void Failed(Exception exception, bool counted)
    {
        if (!counted)
        {
            return;
        }

        Interlocked.Increment(ref _errors);
        var kind = exception.GetType().Name + ": " + (exception.Message.Length > 120 ? exception.Message[..120] : exception.Message);
        if (_errorKinds.Count < 50 || _errorKinds.ContainsKey(kind))
        {
            _errorKinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }
    }

    private async Task SampleAsync(string key, List<TimelinePoint> timeline, CancellationToken cancellationToken)
    {
        var interval = profile.Interval;
        try
        {
            // The warm-up's own completions are not recorded; wait for the measured part.
            var untilMeasured = TimeSpan.FromSeconds((_measuredStart - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (untilMeasured > TimeSpan.Zero)
            {
                progress?.Invoke($"{key}: warming up for {untilMeasured.TotalSeconds:F1} s");
                await Task.Delay(untilMeasured, cancellationToken).ConfigureAwait(false);
            }

            _latencies.TakeInterval();
            _latencies.ResetTotal();
            Interlocked.Exchange(ref _intervalOperations, 0);
            var last = Stopwatch.GetTimestamp();
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Sample(key, timeline, ref last);
            }
        }
        catch (OperationCanceledException)
        {
        }

        var end = Stopwatch.GetTimestamp();
        if (end > _measuredStart)
        {
            var last = end - Ticks(interval.TotalSeconds);
            Sample(key, timeline, ref last);
        }
    }

    private void Sample(string key, List<TimelinePoint> timeline, ref long last)
    {
        var now = Stopwatch.GetTimestamp();
        var seconds = (now - last) / (double)Stopwatch.Frequency;
        last = now;
        var histogram = _latencies.TakeInterval();
        var operations = Interlocked.Exchange(ref _intervalOperations, 0);
        if (seconds <= 0 || (operations == 0 && now > _measuredEnd + Ticks(1)))
        {
            return;
        }

        var latency = Summarize(histogram);
        var point = new TimelinePoint((now - _measuredStart) / (double)Stopwatch.Frequency, operations / seconds, operations * _recordsPerOperation / seconds, latency);
        timeline.Add(point);
        progress?.Invoke(string.Create(
            CultureInfo.InvariantCulture,
            $"{key}: {point.Second,6:F1}/{profile.Duration.TotalSeconds:F0} s  {point.RecordsPerSecond,12:N0} records/s  p50 {latency.P50,8:F2} ms  p99 {latency.P99,8:F2} ms  max {latency.Max,8:F2} ms  in flight {Interlocked.Read(ref _inFlight):N0}  errors {Interlocked.Read(ref _errors):N0}"));
    }
}
