namespace Streams.Storage.Batches;

/// <summary>Bits of the batch header's attributes field; unknown bits must be zero.</summary>
[Flags]
public enum BatchAttributes : ushort
{
    /// <summary>An ordinary batch of records.</summary>
    None = 0,

    /// <summary>
    /// A control entry: the record section is an opaque payload of the consensus layer (a
    /// membership change, a leader's no-op), not records. It still takes a Raft index.
    /// </summary>
    Control = 1,
}
