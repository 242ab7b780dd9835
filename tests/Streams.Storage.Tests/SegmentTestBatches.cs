using Streams.Storage.Batches;

namespace Streams.Storage.Tests.Segments;

/// <summary>Builds valid batches for segment tests with only the header filled in; the body is seeded random bytes.</summary>
internal static class SegmentTestBatches
{
    public const long BaseTimestampMs = 1_700_000_000_000;

    public static byte[] Create(long index, long term = 1, int payloadBytes = 100, long? firstTimestampMs = null, long? maxTimestampMs = null, int seed = 0)
    {
        var batch = new byte[BatchHeader.Size + payloadBytes];
        new Random(unchecked((int)((index * 7919) + (term * 104_729) + seed))).NextBytes(batch.AsSpan(BatchHeader.Size));
        var first = firstTimestampMs ?? (BaseTimestampMs + index);
        Seal(batch, new BatchHeader
        {
            Length = batch.Length,
            FormatVersion = BatchHeader.CurrentFormatVersion,
            Codec = BatchCodec.None,
            Attributes = BatchAttributes.Control,
            Term = term,
            Index = index,
            FirstTimestampMs = first,
            MaxTimestampMs = maxTimestampMs ?? first,
            ProducerId = -1,
            ProducerEpoch = -1,
            ProducerSequence = -1,
            RecordsLength = payloadBytes,
        });
        return batch;
    }

    /// <summary>Writes <paramref name="header"/> with its CRC-32C into <paramref name="batch"/>.</summary>
    public static void Seal(byte[] batch, BatchHeader header)
    {
        header.Write(batch);
        BatchHeader.WriteCrc(batch);
    }
}
