using Streams.V1;

namespace Streams.Cli;

/// <summary>A stream's shards: every page of ListShards, and the order to read them in.</summary>
internal static class Shards
{
    public static async Task<List<Shard>> ListAsync(CliSession session, string stream)
    {
        var shards = new List<Shard>();
        var request = new ListShardsRequest { StreamName = stream };
        while (true)
        {
            var page = await session.Streams.ListShardsAsync(request, session.Call());
            shards.AddRange(page.Shards);
            if (page.NextToken.Length == 0)
            {
                return shards;
            }

            // A next token carries the stream and the filter; the request may not repeat them.
            request = new ListShardsRequest { NextToken = page.NextToken };
        }
    }

    public static bool IsOpen(Shard shard) => shard.SequenceNumberRange is null || shard.SequenceNumberRange.EndingSequenceNumber.Length == 0;

    /// <summary>Every parent of a shard: one after a split, two after a merge, more after UpdateShardCount.</summary>
    public static IEnumerable<string> Parents(Shard shard) =>
        new[] { shard.ParentShardId, shard.AdjacentParentShardId }.Concat(shard.ParentShardIds)
            .Where(id => id.Length > 0)
            .Distinct(StringComparer.Ordinal);

    /// <summary>The shards with every parent before its children (by id among those that are ready).</summary>
    public static List<Shard> ParentsFirst(IReadOnlyList<Shard> shards)
    {
        var listed = shards.Select(s => s.ShardId).ToHashSet(StringComparer.Ordinal);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var pending = shards.OrderBy(s => s.ShardId, StringComparer.Ordinal).ToList();
        var ordered = new List<Shard>(shards.Count);
        while (pending.Count > 0)
        {
            // A parent past the trim horizon is no longer listed: nothing to wait for.
            var ready = pending.Where(s => Parents(s).All(p => placed.Contains(p) || !listed.Contains(p))).ToList();
            if (ready.Count == 0)
            {
                ready = pending;
            }

            foreach (var shard in ready)
            {
                ordered.Add(shard);
                placed.Add(shard.ShardId);
                pending.Remove(shard);
            }
        }

        return ordered;
    }
}
