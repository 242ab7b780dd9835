using System.Collections.Concurrent;
using System.Diagnostics;
using Streams.Rpc;

namespace Streams.Load;

/// <summary>What one measured run produced.</summary>
/// <param name="Rate">Calls/s (unary) or messages/s (streaming).</param>
/// <param name="MegabytesPerSecond">Payload MB/s (10^6 bytes) delivered to the client.</param>
/// <param name="P50Micros">Median call latency in µs (unary only; NaN otherwise).</param>
/// <param name="P99Micros">99th percentile call latency in µs (unary only; NaN otherwise).</param>
/// <param name="Completed">Successful calls (unary) or messages received (streaming).</param>
/// <param name="Errors">Calls or streams that failed.</param>
/// <param name="Elapsed">The measured time.</param>
/// <param name="CpuMicrosPerOp">CPU time of the whole process (user + system) per call or message, in µs.</param>
/// <param name="AllocatedBytesPerOp">Bytes allocated by the whole process per call or message.</param>
internal sealed record RunResult(double Rate, double MegabytesPerSecond, double P50Micros, double P99Micros, long Completed, long Errors, TimeSpan Elapsed, double CpuMicrosPerOp, double AllocatedBytesPerOp);

/// <summary>Process CPU time and allocated bytes at one moment, to charge a run with what it cost.</summary>
internal readonly record struct ResourceMark(TimeSpan Cpu, long Allocated)
{
    public static ResourceMark Now()
    {
        using var process = Process.GetCurrentProcess();
        return new ResourceMark(process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true));
    }

    /// <summary>(CPU µs, allocated bytes) per operation since <paramref name="start"/>.</summary>
    public (double CpuMicros, double Bytes) PerOp(ResourceMark start, double operations) => operations <= 0
        ? (double.NaN, double.NaN)
        : ((Cpu - start.Cpu).TotalMicroseconds / operations, (Allocated - start.Allocated) / operations);
}

/// <summary>Per-call durations of one closed-loop caller, as <see cref="Stopwatch"/> ticks, in a reused array.</summary>
/// <param name="initialCapacity">Samples held before the array first grows (hundreds of callers want a small start).</param>
internal sealed class LatencyRecorder(int initialCapacity = 1 << 16)
{
    private long[] _ticks = new long[Math.Max(1, initialCapacity)];

    public int Count { get; private set; }

    public void Reset() => Count = 0;

    public void Add(long ticks)
    {
        if (Count == _ticks.Length)
        {
            Array.Resize(ref _ticks, _ticks.Length * 2);
        }

        _ticks[Count++] = ticks;
    }

    public ReadOnlySpan<long> Values => _ticks.AsSpan(0, Count);
}

/// <summary>Latency percentiles over the samples of several recorders, merged into one reused, sorted array.</summary>
internal sealed class LatencyMerger
{
    private long[] _merged = new long[1 << 18];

    /// <summary>Merges and sorts; returns (p50, p99) in µs by nearest rank, NaN when there is no sample.</summary>
    public (double P50, double P99) Percentiles(ReadOnlySpan<LatencyRecorder> recorders)
    {
        var (p50, p99, _) = PercentilesAndMax(recorders);
        return (p50, p99);
    }

    /// <summary>As <see cref="Percentiles"/>, with the largest sample too.</summary>
    public (double P50, double P99, double Max) PercentilesAndMax(ReadOnlySpan<LatencyRecorder> recorders)
    {
        var total = 0;
        foreach (var recorder in recorders)
        {
            total += recorder.Count;
        }

        if (total == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        if (_merged.Length < total)
        {
            _merged = new long[Math.Max(total, _merged.Length * 2)];
        }

        var offset = 0;
        foreach (var recorder in recorders)
        {
            recorder.Values.CopyTo(_merged.AsSpan(offset));
            offset += recorder.Count;
        }

        var sorted = _merged.AsSpan(0, total);
        sorted.Sort();
        return (Micros(sorted[Rank(total, 0.50)]), Micros(sorted[Rank(total, 0.99)]), Micros(sorted[^1]));
    }

    private static int Rank(int count, double quantile) => Math.Clamp((int)Math.Ceiling(quantile * count) - 1, 0, count - 1);

    private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
}

/// <summary>Counts failed calls and keeps a few distinct reasons; thread-safe.</summary>
internal sealed class ErrorLog
{
    private const int MaxKinds = 8;
    private readonly ConcurrentDictionary<string, long> _kinds = new(StringComparer.Ordinal);
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Reasons (at most a few) and how often each happened.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Kinds => [.. _kinds.OrderByDescending(k => k.Value)];

    public void Record(Exception exception)
    {
        Interlocked.Increment(ref _count);
        var kind = Describe(exception);
        if (_kinds.Count < MaxKinds || _kinds.ContainsKey(kind))
        {
            _kinds.AddOrUpdate(kind, 1, static (_, n) => n + 1);
        }
    }

    private static string Describe(Exception exception)
    {
        var text = exception switch
        {
            RpcException rpc => $"gRPC {rpc.StatusCode}: {rpc.Status.Detail}",
            OperationCanceledException => "deadline exceeded (the call's own timeout)",
            _ => $"{exception.GetType().Name}: {exception.Message}",
        };
        return text.Length > 160 ? text[..160] + "…" : text;
    }
}

/// <summary>Closed-loop load: every caller issues its next call as soon as the previous one completes.</summary>
internal static class Runner
{
    /// <summary>Runs <paramref name="concurrency"/> unary callers for <paramref name="duration"/>.</summary>
    public static async Task<RunResult> UnaryAsync(Transport transport, int concurrency, TimeSpan duration, LatencyRecorder[] recorders, LatencyMerger merger, ErrorLog errors, CancellationToken cancellationToken)
    {
        var callers = recorders.AsMemory(0, concurrency);
        foreach (var recorder in callers.Span)
        {
            recorder.Reset();
        }

        var errorsBefore = errors.Count;
        var resources = ResourceMark.Now();
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + Ticks(duration);
        var workers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var recorder = recorders[i];
            workers[i] = Task.Run(() => UnaryCallerAsync(transport, stopAt, recorder, errors, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var used = ResourceMark.Now();
        long completed = 0;
        foreach (var recorder in callers.Span)
        {
            completed += recorder.Count;
        }

        var (p50, p99) = merger.Percentiles(callers.Span);
        var rate = completed / elapsed.TotalSeconds;
        var (cpu, allocated) = used.PerOp(resources, completed);
        return new RunResult(rate, rate * transport.UnaryPayloadBytes / 1e6, p50, p99, completed, errors.Count - errorsBefore, elapsed, cpu, allocated);
    }

    /// <summary>Runs <paramref name="streams"/> concurrent server streams of <paramref name="size"/>-byte messages for <paramref name="duration"/>.</summary>
    public static async Task<RunResult> StreamAsync(Transport transport, int streams, int size, int messagesPerStream, TimeSpan duration, ErrorLog errors, CancellationToken cancellationToken)
    {
        var errorsBefore = errors.Count;
        var tallies = new StreamTally[streams];
        var resources = ResourceMark.Now();
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + Ticks(duration);
        var workers = new Task[streams];
        for (var i = 0; i < streams; i++)
        {
            var tally = tallies[i] = new StreamTally();
            workers[i] = Task.Run(() => StreamReaderAsync(transport, size, messagesPerStream, stopAt, tally, errors, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        var used = ResourceMark.Now();

        // Counting stops with the first message after stopAt: measure to that moment, not to
        // when the cancelled streams have been torn down.
        var end = stopAt;
        long bytes = 0;
        foreach (var tally in tallies)
        {
            bytes += tally.Bytes;
            end = Math.Max(end, tally.LastTimestamp);
        }

        var elapsed = Stopwatch.GetElapsedTime(start, end);
        var messages = (double)bytes / size;
        var (cpu, allocated) = used.PerOp(resources, messages);
        return new RunResult(messages / elapsed.TotalSeconds, bytes / 1e6 / elapsed.TotalSeconds, double.NaN, double.NaN, (long)messages, errors.Count - errorsBefore, elapsed, cpu, allocated);
    }

    private static async Task UnaryCallerAsync(Transport transport, long stopAt, LatencyRecorder recorder, ErrorLog errors, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await transport.UnaryAsync(cancellationToken).ConfigureAwait(false);
                recorder.Add(Stopwatch.GetTimestamp() - started);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Record(ex);
                await Task.Delay(1, cancellationToken).ConfigureAwait(false); // No error storm against a broken server.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new OperationCanceledException("The benchmark was cancelled.", ex, cancellationToken);
            }
        }
    }

    private static async Task StreamReaderAsync(Transport transport, int size, int messagesPerStream, long stopAt, StreamTally tally, ErrorLog errors, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            try
            {
                await transport.StreamAsync(messagesPerStream, size, stopAt, tally, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Record(ex);
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new OperationCanceledException("The benchmark was cancelled.", ex, cancellationToken);
            }
        }
    }

    private static long Ticks(TimeSpan duration) => (long)(duration.TotalSeconds * Stopwatch.Frequency);
}
