using Streams.Storage.Batches;

namespace Streams.Storage.CrashWriter;

/// <summary>
/// The batch for each index is a pure function of the index, so that after a crash the checker
/// can tell, byte for byte, whether what survived is what was written.
/// </summary>
public static class CrashBatches
{
    public static byte[] For(long index)
    {
        var random = new Random(unchecked((int)(index * 2_654_435_761L)));
        // Mostly small batches, now and then a large one that spans many pages.
        var payload = random.Next(10) == 0 ? random.Next(16 * 1024, 256 * 1024) : random.Next(0, 4096);
        var batch = new byte[BatchHeader.Size + payload];
        random.NextBytes(batch.AsSpan(BatchHeader.Size));
        var header = new BatchHeader
        {
            Length = batch.Length,
            FormatVersion = BatchHeader.CurrentFormatVersion,
            Codec = BatchCodec.None,
            Attributes = BatchAttributes.Control,
            Term = 1 + (index / 1000),
            Index = index,
            FirstTimestampMs = 1_700_000_000_000 + index,
            MaxTimestampMs = 1_700_000_000_000 + index,
            ProducerId = -1,
            ProducerEpoch = -1,
            ProducerSequence = -1,
            RecordsLength = payload,
        };
        header.Write(batch);
        BatchHeader.WriteCrc(batch);
        return batch;
    }
}
