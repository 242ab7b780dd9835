namespace Streams.Storage.Segments.Waiting;

/// <summary>
/// Callers waiting for a watermark (last index, durable index) to reach a target, woken without
/// polling. The owner publishes a new value and then calls <see cref="Advance"/>; a waiter checks
/// the value again under the lock when it registers, so no wake-up is lost between the two.
/// </summary>
public sealed class WatermarkWaiters
{
    private readonly Lock _lock = new();
    private readonly List<Waiter> _waiters = [];
    private readonly Func<long> _current;
    private int _count;
    private Exception? _failure;

    /// <summary>Creates the list over the watermark that <paramref name="current"/> reads.</summary>
    public WatermarkWaiters(Func<long> current)
    {
        _current = current;
    }

    /// <summary>Waiters registered (for tests).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Completes when the watermark is at least <paramref name="target"/>.</summary>
    public ValueTask WaitAsync(long target, CancellationToken cancellationToken)
    {
        if (_current() >= target)
        {
            return ValueTask.CompletedTask;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        // Registered before the waiter is listed, so that Advance never meets a half-set waiter;
        // a cancellation that fires first leaves a completed waiter, which is not listed.
        var waiter = new Waiter(this, target);
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), waiter);
        }

        lock (_lock)
        {
            if (_failure is not null)
            {
                waiter.Registration.Unregister();
                return ValueTask.FromException(_failure);
            }

            if (_current() >= target)
            {
                waiter.Registration.Unregister();
                return ValueTask.CompletedTask;
            }

            if (!waiter.Completion.Task.IsCompleted)
            {
                _waiters.Add(waiter);
                Volatile.Write(ref _count, _waiters.Count);
            }
        }

        return new ValueTask(waiter.Completion.Task);
    }

    /// <summary>Wakes every waiter whose target is at most <paramref name="value"/>.</summary>
    public void Advance(long value)
    {
        // Always under the lock, never skipped when no waiter is listed: a waiter that read the
        // old watermark could otherwise list itself just after this call looked, and never wake.
        // The lock orders the two: a waiter listed later read the watermark after it was published.
        lock (_lock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var waiter = _waiters[i];
                if (waiter.Target <= value)
                {
                    RemoveAt(i);
                    waiter.Registration.Unregister();
                    waiter.Completion.TrySetResult();
                }
            }
        }
    }

    /// <summary>Fails every waiter, now and later, with <paramref name="exception"/>.</summary>
    public void Fail(Exception exception)
    {
        lock (_lock)
        {
            _failure ??= exception;
            foreach (var waiter in _waiters)
            {
                waiter.Registration.Unregister();
                waiter.Completion.TrySetException(exception);
            }

            _waiters.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    private void RemoveAt(int i)
    {
        var last = _waiters.Count - 1;
        _waiters[i] = _waiters[last];
        _waiters.RemoveAt(last);
        Volatile.Write(ref _count, _waiters.Count);
    }

    private void Remove(Waiter waiter)
    {
        lock (_lock)
        {
            var i = _waiters.IndexOf(waiter);
            if (i >= 0)
            {
                RemoveAt(i);
            }
        }
    }

    private sealed class Waiter(WatermarkWaiters owner, long target)
    {
        public long Target { get; } = target;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Cancel(CancellationToken token)
        {
            owner.Remove(this);
            Completion.TrySetCanceled(token);
        }
    }
}
