namespace Streams.Storage.Segments;

/// <summary>What <see cref="SegmentLog.Append"/> stored.</summary>
/// <param name="Index">The batch's Raft index, now <see cref="SegmentLog.LastIndex"/>.</param>
/// <param name="Term">The batch's Raft term.</param>
/// <param name="SizeBytes">Bytes the batch takes in its segment.</param>
/// <param name="IsDurable">
/// Whether the batch was already durable when Append returned (always true under
/// <see cref="DurabilityPolicy.Never"/>, where durability is left to the OS). Otherwise await
/// <see cref="SegmentLog.WaitForDurableAsync"/> with <paramref name="Index"/>.
/// </param>
public readonly record struct AppendResult(long Index, long Term, int SizeBytes, bool IsDurable);
