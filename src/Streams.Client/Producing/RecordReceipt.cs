using System.Runtime.CompilerServices;

namespace Streams.Client.Producing;

/// <summary>
/// A record the producer took: <see cref="Completion"/> completes once the cluster acknowledged it,
/// or faults with why it was not written. Awaiting the receipt awaits <see cref="Completion"/>.
/// </summary>
public readonly struct RecordReceipt : IEquatable<RecordReceipt>
{
    internal RecordReceipt(Task<RecordResult> completion) => Completion = completion;

    /// <summary>
    /// Completes with the record's shard and sequence number once a majority of the shard's replicas
    /// hold it; faults with an <see cref="ArgumentException"/> or <see cref="StreamsException"/> when
    /// the cluster refused it, or an <see cref="ObjectDisposedException"/> when the producer was
    /// disposed before it was acknowledged.
    /// </summary>
    public Task<RecordResult> Completion { get; }

    /// <summary>Compares by completion.</summary>
    public static bool operator ==(RecordReceipt left, RecordReceipt right) => left.Equals(right);

    /// <summary>Compares by completion.</summary>
    public static bool operator !=(RecordReceipt left, RecordReceipt right) => !left.Equals(right);

    /// <summary>Lets <c>await receipt</c> wait for <see cref="Completion"/>.</summary>
    public TaskAwaiter<RecordResult> GetAwaiter() => Completion.GetAwaiter();

    /// <inheritdoc />
    public bool Equals(RecordReceipt other) => ReferenceEquals(Completion, other.Completion);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RecordReceipt other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Completion?.GetHashCode() ?? 0;
}
