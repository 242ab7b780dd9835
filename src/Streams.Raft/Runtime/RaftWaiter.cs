namespace Streams.Raft.Runtime;

/// <summary>
/// A caller waiting for its group's loop: completed by the loop, or cancelled by the caller's
/// token. Continuations run asynchronously, so the loop never runs caller code.
/// </summary>
internal class RaftWaiter<T> : TaskCompletionSource<T>
{
    private CancellationTokenRegistration _registration;

    public RaftWaiter()
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
    }

    /// <summary>True once completed, failed or cancelled: the loop skips it.</summary>
    public bool IsDone => Task.IsCompleted;

    /// <summary>Cancels the wait when <paramref name="cancellationToken"/> fires; call before queueing.</summary>
    public void WatchCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((RaftWaiter<T>)state!).TrySetCanceled(token), this);
        }
    }

    public void Succeed(T result)
    {
        if (TrySetResult(result))
        {
            // Unregister, not Dispose: never wait on the loop for a callback running elsewhere.
            _registration.Unregister();
        }
    }

    public void Fail(Exception error)
    {
        if (TrySetException(error))
        {
            _registration.Unregister();
        }
    }
}
