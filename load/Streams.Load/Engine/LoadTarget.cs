namespace Streams.Load.Engine;

/// <summary>
/// What a scenario drives: one kind of operation (a record, or a batch of them) against one system,
/// with the words a report needs to say what was measured and what an acknowledgement meant.
/// </summary>
internal abstract class LoadTarget : IAsyncDisposable
{
    /// <summary>The system, such as <c>Streams</c> or <c>NATS JetStream</c>.</summary>
    public abstract string System { get; }

    /// <summary>How the system runs, such as <c>3 nodes, RF 3, durability always</c>.</summary>
    public abstract string Setup { get; }

    /// <summary>What each operation is, such as <c>SDK producer, 100 B records</c>.</summary>
    public abstract string Workload { get; }

    /// <summary>What a completed operation guarantees, such as <c>acknowledged once a majority of replicas fsynced it</c>.</summary>
    public abstract string Guarantee { get; }

    /// <summary>Records each operation carries.</summary>
    public virtual int RecordsPerOperation => 1;

    /// <summary>Bytes of data per record.</summary>
    public abstract int RecordBytes { get; }

    /// <summary>Prepares the target (streams, connections) before the warm-up.</summary>
    public virtual Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Sends operation <paramref name="operation"/> (numbered from 0 over the run) as virtual producer
    /// <paramref name="producer"/>; completes when the system acknowledged it, throws when it failed.
    /// Called from many threads at once.
    /// </summary>
    public abstract ValueTask SendAsync(int producer, long operation, CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
