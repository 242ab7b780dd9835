using System.Diagnostics;
using Streams.Raft.Storage;

namespace Streams.Load.Raft;

/// <summary>What one run of a lone <see cref="FileRaftLog"/> writer produced.</summary>
/// <param name="SavesPerSecond">SaveAsync calls per second: with fsync on, fsyncs per second.</param>
/// <param name="EntriesPerSecond">Entries saved per second.</param>
/// <param name="P50Micros">Median SaveAsync latency, µs.</param>
/// <param name="P99Micros">99th percentile SaveAsync latency, µs.</param>
internal sealed record BaselineRun(double SavesPerSecond, double EntriesPerSecond, double P50Micros, double P99Micros);

/// <summary>
/// The disk as Raft's storage sees it: one writer saving entries to a fresh <see cref="FileRaftLog"/>
/// back to back, as a leader would with nothing else to do. One entry per save shows what one
/// fsync costs; a batch per save shows the most group commit can get from the disk.
/// </summary>
internal static class LogBaseline
{
    public static async Task<BaselineRun> RunAsync(string directory, bool fsync, int entriesPerSave, int entryBytes, TimeSpan duration, LatencyRecorder recorder, LatencyMerger merger, CancellationToken cancellationToken)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        var payload = new byte[entryBytes];
        Random.Shared.NextBytes(payload);
        var batch = new Entry[entriesPerSave];
        recorder.Reset();
        long saves = 0;
        long index = 0;
        double seconds;
        using (var log = await FileRaftLog.OpenAsync(new FileRaftLogOptions { Directory = directory, Fsync = fsync }, cancellationToken).ConfigureAwait(false))
        {
            var start = Stopwatch.GetTimestamp();
            var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // New entries per save, as a leader makes them; their cost is nothing beside a write.
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = new Entry(1, ++index, payload);
                }

                var started = Stopwatch.GetTimestamp();
                await log.SaveAsync(null, batch, null, cancellationToken).ConfigureAwait(false);
                recorder.Add(Stopwatch.GetTimestamp() - started);
                saves++;
            }

            seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Directory.Delete(directory, recursive: true);
        var (p50, p99) = merger.Percentiles([recorder]);
        return new BaselineRun(saves / seconds, saves * (double)entriesPerSave / seconds, p50, p99);
    }
}
