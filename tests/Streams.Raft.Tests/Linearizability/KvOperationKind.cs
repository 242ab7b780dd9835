namespace Streams.Raft.Tests.Linearizability;

/// <summary>The two operations of the key-value register model.</summary>
public enum KvOperationKind
{
    /// <summary>Writes a value to a key.</summary>
    Put,

    /// <summary>Reads a key: the value last written, or null when none was.</summary>
    Get,
}
