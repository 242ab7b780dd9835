using System.Collections.Immutable;

namespace Streams.Server.Metadata.Consumers;

/// <summary>What <see cref="LeaseAssigner.Assign"/> decided.</summary>
/// <param name="Shards">The group's shard states with the new leases.</param>
/// <param name="Moved">True when any shard's owner changed (granted, moved or released): the group's generation grows.</param>
public sealed record LeaseAssignment(ImmutableSortedDictionary<string, GroupShard> Shards, bool Moved);
