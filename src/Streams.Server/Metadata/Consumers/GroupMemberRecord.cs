namespace Streams.Server.Metadata.Consumers;

/// <summary>A live member of a consumer group.</summary>
/// <param name="MemberId">The id the member chose.</param>
/// <param name="ExpiresAt">When the member expires unless it heartbeats, checkpoints or joins again before.</param>
/// <param name="SessionTimeoutMs">The session timeout the member asked for (each heartbeat extends its life by this much).</param>
public sealed record GroupMemberRecord(string MemberId, DateTimeOffset ExpiresAt, int SessionTimeoutMs);
