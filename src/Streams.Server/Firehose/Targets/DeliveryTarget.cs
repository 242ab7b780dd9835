using System.Buffers;

namespace Streams.Server.Firehose.Targets;

/// <summary>Where a delivery stream's objects go.</summary>
public abstract class DeliveryTarget : IDisposable
{
    /// <summary>Where this target writes, for logs and status, e.g. "s3://bucket (http://127.0.0.1:4569)" or "directory /data/firehose/x".</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Stores the object under <paramref name="key"/>, replacing any object already there (a
    /// retry after a crash writes the same key again). Readers see the old object or the whole
    /// new one, never part of it.
    /// </summary>
    /// <param name="key">The object's key, '/'-separated.</param>
    /// <param name="content">The object's bytes; only read during the call.</param>
    /// <param name="cancellationToken">Stops the upload (it throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="DeliveryTargetException">The object was not stored; the message says why and what to change. The caller retries with backoff.</exception>
    public abstract Task PutObjectAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the target's connections or handles.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}
