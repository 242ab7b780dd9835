namespace Streams.Storage.Batches;

/// <summary>How a batch's record section is compressed. The value is stored in the batch header.</summary>
public enum BatchCodec : byte
{
    /// <summary>Records stored as they are.</summary>
    None = 0,

    /// <summary>Records compressed as one LZ4 block (the system's liblz4).</summary>
    Lz4 = 1,
}
