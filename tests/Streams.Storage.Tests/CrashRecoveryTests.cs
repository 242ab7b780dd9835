using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Streams.Storage.CrashWriter;
using Streams.Storage.Segments;
using Xunit.Abstractions;

namespace Streams.Storage.Tests;

/// <summary>
/// A child process appends under `always` and reports what it was told is durable; it is killed
/// with SIGKILL at seeded random moments, again and again on the same directory. After each kill
/// the log must reopen with every reported batch intact, byte for byte, and nothing else wrong.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_batch_reported_durable_survives_SIGKILL()
    {
        var long_ = Environment.GetEnvironmentVariable("STREAMS_LONG_TESTS") == "1";
        var kills = long_ ? 100 : 12;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("STREAMS_CRASH_SEED"), CultureInfo.InvariantCulture, out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        output.WriteLine($"seed {seed} (rerun with STREAMS_CRASH_SEED={seed}), {kills} kills");
        var random = new Random(seed);
        var directory = Directory.CreateTempSubdirectory("streams-crash-").FullName;
        try
        {
            long reportedDurable = 0;
            for (var kill = 0; kill < kills; kill++)
            {
                var (durable, opened) = await RunAndKillAsync(directory, TimeSpan.FromMilliseconds(random.Next(50, 1500)));
                reportedDurable = Math.Max(reportedDurable, durable);
                output.WriteLine($"kill {kill}: writer opened at {opened}, reported durable up to {durable}");

                await using var log = await SegmentLog.OpenAsync(new SegmentLogOptions { Directory = directory, SegmentSizeBytes = 1024 * 1024 });
                Assert.True(log.LastIndex >= reportedDurable, $"seed {seed}, kill {kill}: batch {reportedDurable} was reported durable but the log ends at {log.LastIndex}.");
                Assert.Equal(1, log.FirstIndex);
                VerifyEveryBatch(log, seed, kill);
            }

            Assert.True(reportedDurable > kills, $"seed {seed}: only {reportedDurable} batches became durable over {kills} runs; the test proved little.");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void VerifyEveryBatch(SegmentLog log, int seed, int kill)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var index = log.FirstIndex;
        while (index <= log.LastIndex)
        {
            buffer.Clear();
            var read = log.Read(index, 4 * 1024 * 1024, buffer);
            Assert.True(read.BatchCount > 0, $"seed {seed}, kill {kill}: no batch at {index} though the log ends at {log.LastIndex}.");
            var bytes = buffer.WrittenMemory;
            for (var i = 0; i < read.BatchCount; i++)
            {
                var expected = CrashBatches.For(index);
                Assert.True(bytes.Span[..expected.Length].SequenceEqual(expected), $"seed {seed}, kill {kill}: batch {index} differs from what was written.");
                bytes = bytes[expected.Length..];
                index++;
            }

            Assert.Equal(index, read.NextIndex);
        }
    }

    /// <summary>Runs the writer until <paramref name="after"/> past its opening, then SIGKILLs it.</summary>
    private static async Task<(long Durable, string Opened)> RunAndKillAsync(string directory, TimeSpan after)
    {
        var writer = typeof(CrashBatches).Assembly.Location;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(writer);
        info.ArgumentList.Add(directory);
        info.ArgumentList.Add((1024 * 1024).ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the crash writer.");
        var stderr = process.StandardError.ReadToEndAsync();
        long durable = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var opened = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (opened is null || !opened.StartsWith("opened ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The crash writer did not open its log: '{opened}'. Its stderr:\n{await stderr}");
        }

        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("durable ", StringComparison.Ordinal))
                {
                    Volatile.Write(ref durable, long.Parse(line.AsSpan(8), CultureInfo.InvariantCulture));
                }
            }
        });
        await Task.Delay(after);

        // Process.Kill sends SIGKILL on Linux: no flush, no finally, no dispose.
        process.Kill();
        await process.WaitForExitAsync();
        await reading;
        return (Volatile.Read(ref durable), opened);
    }
}
