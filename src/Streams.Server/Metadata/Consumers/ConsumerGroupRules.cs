using Streams.V1;

namespace Streams.Server.Metadata.Consumers;

/// <summary>
/// The rules for a consumer group's fields, shared by the controller (which decides) and the API
/// (which refuses early, without a trip through the log). Each check returns null when the value
/// is valid, else a message saying what to change.
/// </summary>
public static class ConsumerGroupRules
{
    /// <summary>The longest group name or member id.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The session timeout when a member asks for none.</summary>
    public const int DefaultSessionTimeoutMs = 10_000;

    /// <summary>The shortest session timeout.</summary>
    public const int MinSessionTimeoutMs = 1_000;

    /// <summary>The longest session timeout.</summary>
    public const int MaxSessionTimeoutMs = 300_000;

    /// <summary>The most consumer groups one stream holds: every group lives in the controller's state, which every node keeps whole.</summary>
    public const int MaxGroupsPerStream = 200;

    /// <summary>The most live members one group holds (far more than a stream has shards to lease).</summary>
    public const int MaxMembersPerGroup = 1_000;

    /// <summary>Checks a group name: 1 to 128 characters of letters, digits, '_', '.' and '-'.</summary>
    /// <param name="name">The name.</param>
    public static string? ValidateGroupName(string? name) =>
        Validate("group_name", name, static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-', "letters, digits, '_', '.' and '-'");

    /// <summary>Checks a member id: 1 to 128 characters of letters, digits, '_', '.', ':' and '-'.</summary>
    /// <param name="memberId">The member id.</param>
    public static string? ValidateMemberId(string? memberId) =>
        Validate("member_id", memberId, static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-', "letters, digits, '_', '.', ':' and '-'");

    /// <summary>Checks a requested session timeout (0 means the default).</summary>
    /// <param name="sessionTimeoutMs">The requested timeout.</param>
    public static string? ValidateSessionTimeout(int sessionTimeoutMs) =>
        sessionTimeoutMs == 0 || sessionTimeoutMs is >= MinSessionTimeoutMs and <= MaxSessionTimeoutMs
            ? null
            : $"session_timeout_ms must be between {MinSessionTimeoutMs} and {MaxSessionTimeoutMs} (0 means {DefaultSessionTimeoutMs}); it is {sessionTimeoutMs}.";

    /// <summary>Checks an initial position: unspecified (TRIM_HORIZON), TRIM_HORIZON or LATEST.</summary>
    /// <param name="position">The position, as the enum's number.</param>
    public static string? ValidateInitialPosition(int position) =>
        position is (int)InitialPosition.Unspecified or (int)InitialPosition.TrimHorizon or (int)InitialPosition.Latest
            ? null
            : $"initial_position {position} is not known; use INITIAL_POSITION_TRIM_HORIZON or INITIAL_POSITION_LATEST.";

    /// <summary>The session timeout in force for a valid request.</summary>
    /// <param name="sessionTimeoutMs">The requested timeout (0 for the default).</param>
    public static int SessionTimeout(int sessionTimeoutMs) => sessionTimeoutMs == 0 ? DefaultSessionTimeoutMs : sessionTimeoutMs;

    /// <summary>The initial position in force for a valid request (unspecified is TRIM_HORIZON).</summary>
    /// <param name="position">The requested position, as the enum's number.</param>
    public static InitialPosition InitialPositionOf(int position) =>
        position == (int)InitialPosition.Latest ? InitialPosition.Latest : InitialPosition.TrimHorizon;

    private static string? Validate(string field, string? value, Func<char, bool> allowed, string alphabet)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"{field} is required: 1 to {MaxNameLength} characters of {alphabet}.";
        }

        if (value.Length > MaxNameLength || !value.All(allowed))
        {
            var shown = value.Length <= 48 ? value : string.Concat(value.AsSpan(0, 45), "...");
            return $"{field} must be 1 to {MaxNameLength} characters of {alphabet}; '{shown}' ({value.Length} characters) is not.";
        }

        return null;
    }
}
