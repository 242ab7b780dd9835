namespace Streams.Client.Producing;

/// <summary>
/// The producer's memory bound: bytes are reserved before a record is taken and released once it
/// is answered. A reservation that does not fit waits, first come first served (a large record is
/// not starved by small ones behind it), and can be cancelled. Thread-safe.
/// </summary>
/// <param name="capacity">The bound, in bytes.</param>
internal sealed class ByteBudget(long capacity)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _used;
    private Exception? _closed;

    /// <summary>The bound.</summary>
    public long Capacity => capacity;

    /// <summary>Bytes reserved now.</summary>
    public long Used => Volatile.Read(ref _used);

    /// <summary>Callers waiting for room.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> if they fit now and nobody waits ahead; false otherwise.</summary>
    public bool TryReserve(long bytes)
    {
        lock (_lock)
        {
            if (_closed is not null || _waiters.Count > 0 || _used + bytes > capacity)
            {
                return false;
            }

            _used += bytes;
            return true;
        }
    }

    /// <summary>Reserves <paramref name="bytes"/>, waiting for room behind earlier callers.</summary>
    /// <exception cref="ObjectDisposedException">The budget was closed (the producer is being disposed).</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled; nothing is reserved.</exception>
    public Task ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes > capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"More than the whole budget of {capacity} bytes.");
        }

        Waiter waiter;
        lock (_lock)
        {
            if (_closed is not null)
            {
                return Task.FromException(_closed);
            }

            if (_waiters.Count == 0 && _used + bytes <= capacity)
            {
                _used += bytes;
                return Task.CompletedTask;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled(cancellationToken);
            }

            waiter = new Waiter(bytes);
            waiter.Node = _waiters.AddLast(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // Granted before this line runs: the callback then finds the waiter gone and does nothing.
            waiter.Registration = cancellationToken.UnsafeRegister(
                static (state, token) =>
                {
                    var (budget, w) = ((ByteBudget, Waiter))state!;
                    budget.Cancel(w, token);
                },
                (this, waiter));
        }

        return waiter.Task;
    }

    /// <summary>Gives <paramref name="bytes"/> back and lets waiting callers in, in order.</summary>
    public void Release(long bytes)
    {
        List<Waiter>? granted = null;
        lock (_lock)
        {
            _used -= bytes;
            while (_waiters.First is { } first && _used + first.Value.Bytes <= capacity)
            {
                _used += first.Value.Bytes;
                _waiters.RemoveFirst();
                first.Value.Node = null;
                (granted ??= []).Add(first.Value);
            }
        }

        if (granted is not null)
        {
            foreach (var waiter in granted)
            {
                waiter.Registration.Dispose();
                waiter.TrySetResult();
            }
        }
    }

    /// <summary>Fails every waiting caller and every later reservation with <paramref name="reason"/>.</summary>
    public void Close(Exception reason)
    {
        List<Waiter> waiting;
        lock (_lock)
        {
            _closed ??= reason;
            waiting = [.. _waiters];
            foreach (var waiter in waiting)
            {
                waiter.Node = null;
            }

            _waiters.Clear();
        }

        foreach (var waiter in waiting)
        {
            waiter.Registration.Dispose();
            waiter.TrySetException(reason);
        }
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            if (waiter.Node is null)
            {
                // Granted or closed meanwhile: the caller gets that outcome.
                return;
            }

            _waiters.Remove(waiter.Node);
            waiter.Node = null;
        }

        waiter.TrySetCanceled(token);

        // The waiter at the head may have held back smaller ones behind it.
        Release(0);
    }

    private sealed class Waiter(long bytes) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Bytes => bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
