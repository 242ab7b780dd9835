namespace Streams.Server.Metadata;

/// <summary>Where a shard lives in the metadata: its stream's name and its number there.</summary>
/// <param name="StreamName">The stream's name.</param>
/// <param name="ShardNumber">The shard's number in the stream.</param>
public readonly record struct ShardAddress(string StreamName, int ShardNumber);
