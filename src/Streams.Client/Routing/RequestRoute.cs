namespace Streams.Client.Routing;

/// <summary>Where a request is best sent: the leader of one shard, or any node.</summary>
/// <param name="StreamName">The stream, or null for requests about no particular shard.</param>
/// <param name="ShardId">The shard, or null.</param>
internal readonly record struct RequestRoute(string? StreamName, string? ShardId)
{
    /// <summary>Any node.</summary>
    public static RequestRoute None => default;

    /// <summary>The leader of <paramref name="shardId"/> in <paramref name="streamName"/>.</summary>
    public static RequestRoute ToShard(string streamName, string shardId) => new(streamName, shardId);

    /// <summary>Any node; a failure still refreshes the stream's shard map.</summary>
    public static RequestRoute ToStream(string streamName) => new(streamName, null);
}
