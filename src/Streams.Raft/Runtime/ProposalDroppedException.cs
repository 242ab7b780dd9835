namespace Streams.Raft.Runtime;

/// <summary>
/// The proposed entry was appended but another entry was committed at its index: leadership
/// changed before it was replicated to a majority. It will never be applied; retry it.
/// </summary>
public sealed class ProposalDroppedException : Exception
{
    /// <summary>Creates the exception for the entry <paramref name="index"/>@<paramref name="term"/>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="index">The entry's index.</param>
    /// <param name="term">The entry's term.</param>
    public ProposalDroppedException(long groupId, long index, long term)
        : base($"The entry proposed at index {index} in term {term} of Raft group {groupId} was replaced after a leadership change and will not be applied: lost leadership, retry.")
    {
        GroupId = groupId;
        Index = index;
        Term = term;
    }

    /// <summary>Creates the exception.</summary>
    public ProposalDroppedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ProposalDroppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ProposalDroppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The group.</summary>
    public long GroupId { get; }

    /// <summary>The index the entry was given.</summary>
    public long Index { get; }

    /// <summary>The term the entry was given.</summary>
    public long Term { get; }
}
