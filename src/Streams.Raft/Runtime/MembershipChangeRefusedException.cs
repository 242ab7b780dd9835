using Streams.Raft.Core;

namespace Streams.Raft.Runtime;

/// <summary>
/// The leader refused a membership change: an earlier one is still pending
/// (<see cref="ProposeStatus.ConfChangePending"/>, retry shortly) or the change is invalid
/// (<see cref="ProposeStatus.ConfChangeRejected"/>, see the message).
/// </summary>
public sealed class MembershipChangeRefusedException : Exception
{
    /// <summary>Creates the exception from the leader's answer.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="status">Why it was refused.</param>
    /// <param name="reason">The leader's explanation.</param>
    public MembershipChangeRefusedException(long groupId, ProposeStatus status, string? reason)
        : base($"Raft group {groupId} refused the membership change ({status}): {reason ?? "no reason given"}.")
    {
        GroupId = groupId;
        Status = status;
    }

    /// <summary>Creates the exception.</summary>
    public MembershipChangeRefusedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public MembershipChangeRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public MembershipChangeRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The group.</summary>
    public long GroupId { get; }

    /// <summary>Why the change was refused.</summary>
    public ProposeStatus Status { get; }
}
