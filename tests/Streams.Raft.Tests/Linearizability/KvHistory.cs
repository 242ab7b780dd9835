namespace Streams.Raft.Tests.Linearizability;

/// <summary>
/// Records what clients of a key-value store did, for <see cref="LinearizabilityChecker"/>: each
/// operation is invoked (getting an op id), then completed, failed (known not to have happened) or
/// left pending (outcome unknown). Not thread-safe: the simulator that feeds it is single-threaded.
/// </summary>
public sealed class KvHistory
{
    // Indexed by op id - 1; null once the op is failed (removed).
    private readonly List<KvOperation?> _ops = [];

    /// <summary>Every operation not failed, in invocation order (a snapshot).</summary>
    public IReadOnlyList<KvOperation> Operations => [.. _ops.OfType<KvOperation>()];

    public long InvokePut(int client, string key, string value, long time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return Add(client, KvOperationKind.Put, key, value, time);
    }

    public long InvokeGet(int client, string key, long time)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Add(client, KvOperationKind.Get, key, null, time);
    }

    /// <summary>The put was acknowledged at <paramref name="time"/>.</summary>
    public void CompletePut(long opId, long time)
    {
        var op = Pending(opId, KvOperationKind.Put, time);
        _ops[(int)(opId - 1)] = op with { Response = time };
    }

    /// <summary>The get answered <paramref name="observed"/> (null: key absent) at <paramref name="time"/>.</summary>
    public void CompleteGet(long opId, string? observed, long time)
    {
        var op = Pending(opId, KvOperationKind.Get, time);
        _ops[(int)(opId - 1)] = op with { Value = observed, Response = time };
    }

    /// <summary>
    /// The operation is known not to have taken effect (e.g. rejected before being proposed), so it
    /// is removed. An op never completed nor failed stays pending: it may or may not have happened.
    /// </summary>
    public void Fail(long opId)
    {
        var op = Lookup(opId);
        if (op.IsComplete)
        {
            throw new InvalidOperationException($"op {op} completed, so it cannot be failed");
        }

        _ops[(int)(opId - 1)] = null;
    }

    /// <summary>Checks the operations recorded so far.</summary>
    public LinearizabilityResult Check(long maxSteps = LinearizabilityChecker.DefaultMaxSteps) =>
        LinearizabilityChecker.Check(Operations, maxSteps);

    private long Add(int client, KvOperationKind kind, string key, string? value, long time)
    {
        var opId = _ops.Count + 1L;
        _ops.Add(new KvOperation(client, opId, kind, key, value, time, null));
        return opId;
    }

    private KvOperation Pending(long opId, KvOperationKind kind, long time)
    {
        var op = Lookup(opId);
        if (op.Kind != kind)
        {
            throw new InvalidOperationException($"op {op} is not a {kind}");
        }

        if (op.IsComplete)
        {
            throw new InvalidOperationException($"op {op} is already complete");
        }

        if (time < op.Invocation)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"op {op} cannot respond before its invocation");
        }

        return op;
    }

    private KvOperation Lookup(long opId)
    {
        if (opId < 1 || opId > _ops.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(opId), opId, "no such op");
        }

        return _ops[(int)(opId - 1)] ?? throw new InvalidOperationException($"op {opId} was failed");
    }
}
