namespace Streams.Client.Producing;

/// <summary>One record of a <see cref="ProducerBatch"/>: who waits for it, where it routes, where its bytes are.</summary>
internal struct RecordSlot
{
    /// <summary>Completed when the record is acknowledged or refused; null only in tests of the queue logic.</summary>
    public TaskCompletionSource<RecordResult>? Completion;

    /// <summary>Its hash key, to route it again when its shard closes.</summary>
    public UInt128 HashKey;

    /// <summary>Where its encoded entry starts in the batch's payload.</summary>
    public int Offset;

    /// <summary>The length of its encoded entry.</summary>
    public int Length;
}
