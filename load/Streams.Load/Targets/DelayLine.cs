using System.Diagnostics;
using Streams.Load.Engine;

namespace Streams.Load.Targets;

/// <summary>
/// Completes waits at given <see cref="Stopwatch"/> timestamps from one dedicated thread that
/// sleeps while the next is more than 1.5 ms away, yields closer to it and spins for the last
/// 0.2 ms: far more precise than Task.Delay's timer (about 1 ms on Linux), which would blur a fake
/// target's fixed delay. Waits complete on that thread (no hop through the thread pool), so the
/// caller's continuation sees the completion at once.
/// </summary>
internal sealed class DelayLine : IAsyncDisposable
{
    private readonly PriorityQueue<TaskCompletionSource, long> _waits = new();
    private readonly Lock _lock = new();
    private readonly Thread _thread;
    private volatile bool _stopped;

    public DelayLine()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "fake-target delay line" };
        _thread.Start();
    }

    public ValueTask WaitUntilAsync(long timestamp)
    {
        var wait = new TaskCompletionSource();
        lock (_lock)
        {
            _waits.Enqueue(wait, timestamp);
        }

        return new ValueTask(wait.Task);
    }

    public ValueTask DisposeAsync()
    {
        _stopped = true;
        _thread.Join();
        lock (_lock)
        {
            while (_waits.TryDequeue(out var wait, out _))
            {
                wait.TrySetCanceled();
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Run()
    {
        while (!_stopped)
        {
            long next;
            List<TaskCompletionSource>? due = null;
            lock (_lock)
            {
                var now = Stopwatch.GetTimestamp();
                while (_waits.TryPeek(out var wait, out var at) && at <= now)
                {
                    _waits.Dequeue();
                    (due ??= []).Add(wait);
                }

                next = _waits.TryPeek(out _, out var first) ? first : long.MaxValue;
            }

            // Outside the lock: the continuations run here.
            if (due is not null)
            {
                foreach (var wait in due)
                {
                    wait.TrySetResult();
                }

                continue;
            }

            Pace.WaitTowards(next);
        }
    }
}
