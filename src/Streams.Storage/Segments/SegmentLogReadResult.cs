namespace Streams.Storage.Segments;

/// <summary>What <see cref="SegmentLog.Read"/> copied.</summary>
/// <param name="BatchCount">Whole batches written to the destination, in index order.</param>
/// <param name="Bytes">Bytes written to the destination.</param>
/// <param name="NextIndex">The index to read from next: the requested index plus <paramref name="BatchCount"/>.</param>
public readonly record struct SegmentLogReadResult(int BatchCount, long Bytes, long NextIndex);
