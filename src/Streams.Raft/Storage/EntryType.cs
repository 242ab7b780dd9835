namespace Streams.Raft.Storage;

/// <summary>What an <see cref="Entry"/> carries.</summary>
public enum EntryType
{
    /// <summary>An application payload (or, when empty, a leader's no-op).</summary>
    Normal = 0,

    /// <summary>
    /// A membership change: the payload is a <see cref="Membership.ConfigEntry"/>, the whole new
    /// configuration and the change that led to it. It takes effect as soon as it is in a log
    /// (thesis §4.1), committed or not.
    /// </summary>
    Config = 1,
}
