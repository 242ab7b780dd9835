using System.Collections.Immutable;
using Google.Protobuf;
using Streams.V1;

namespace Streams.Server.Metadata.Firehose;

/// <summary>
/// A delivery stream as the controller keeps it: its source, its destination (checked, with
/// defaults filled in), the version updates must name, and its workers' progress per shard.
/// </summary>
public sealed record DeliveryStreamRecord
{
    /// <summary>The delivery stream's name.</summary>
    public required string Name { get; init; }

    /// <summary>The stream it reads.</summary>
    public required string SourceStreamName { get; init; }

    /// <summary>A serialized <see cref="DeliveryDestination"/>: bytes, so the record stays immutable and comparable.</summary>
    public required ByteString Destination { get; init; }

    /// <summary>Where its consumer group starts on shards that have no checkpoint.</summary>
    public InitialPosition InitialPosition { get; init; } = InitialPosition.TrimHorizon;

    /// <summary>Grows with every destination update.</summary>
    public long VersionId { get; init; } = 1;

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its destination last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Progress by shard id (ordinal order); only shards some worker reported on.</summary>
    public ImmutableSortedDictionary<string, DeliveryShardProgress> Shards { get; init; } = ImmutableSortedDictionary.Create<string, DeliveryShardProgress>(StringComparer.Ordinal);

    /// <summary>The consumer group its workers share.</summary>
    public string ConsumerGroupName => DeliveryStreamRules.ConsumerGroupOf(Name);

    /// <summary>A fresh copy of the destination (callers may change it).</summary>
    public DeliveryDestination ParseDestination() => DeliveryDestination.Parser.ParseFrom(Destination);

    /// <summary>What was reported for <paramref name="shardId"/>.</summary>
    /// <param name="shardId">The shard id.</param>
    public DeliveryShardProgress ProgressOf(string shardId) => Shards.TryGetValue(shardId, out var progress) ? progress : DeliveryShardProgress.None;

    /// <summary>Equal when every property is, the shards' progress element by element.</summary>
    /// <param name="other">The other record.</param>
    public bool Equals(DeliveryStreamRecord? other) =>
        other is not null
        && Name == other.Name
        && SourceStreamName == other.SourceStreamName
        && Destination.Equals(other.Destination)
        && InitialPosition == other.InitialPosition
        && VersionId == other.VersionId
        && CreatedAt == other.CreatedAt
        && UpdatedAt == other.UpdatedAt
        && Shards.Keys.SequenceEqual(other.Shards.Keys)
        && Shards.Values.SequenceEqual(other.Shards.Values);

    /// <summary>A hash of the scalar properties.</summary>
    public override int GetHashCode() => HashCode.Combine(Name, SourceStreamName, VersionId, CreatedAt, Shards.Count);
}
