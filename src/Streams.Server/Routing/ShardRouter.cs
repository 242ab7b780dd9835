using Streams.Client.Routing;
using Streams.Server.Metadata;

namespace Streams.Server.Routing;

/// <summary>
/// Finds the open shard of a stream that holds a hash key. Built once per metadata change from the
/// stream's open shards, which cover [0, 2^128 - 1] without gap or overlap; immutable after.
/// </summary>
public sealed class ShardRouter
{
    private readonly UInt128[] _starts;
    private readonly ShardRecord[] _shards;

    /// <summary>Builds the router; throws an <see cref="ArgumentException"/> when the shards leave a gap or overlap.</summary>
    /// <param name="openShards">The stream's open shards, in any order.</param>
    public ShardRouter(IEnumerable<ShardRecord> openShards)
    {
        ArgumentNullException.ThrowIfNull(openShards);
        _shards = [.. openShards.OrderBy(s => s.HashKeyRange.Start)];
        if (_shards.Length == 0)
        {
            throw new ArgumentException("A stream has at least one open shard.", nameof(openShards));
        }

        _starts = new UInt128[_shards.Length];
        var expected = UInt128.Zero;
        for (var i = 0; i < _shards.Length; i++)
        {
            var range = _shards[i].HashKeyRange;
            if (range.Start != expected)
            {
                throw new ArgumentException($"Open shards must cover the hash-key space without gap or overlap: {_shards[i].ShardId} starts at {HashKey.Format(range.Start)}, expected {HashKey.Format(expected)}.", nameof(openShards));
            }

            _starts[i] = range.Start;
            var last = i == _shards.Length - 1;
            if (last != (range.End == UInt128.MaxValue))
            {
                throw new ArgumentException($"Open shards must cover the hash-key space up to 2^128 - 1: {_shards[i].ShardId} ends at {HashKey.Format(range.End)}.", nameof(openShards));
            }

            expected = last ? expected : range.End + 1;
        }

        Shards = Array.AsReadOnly(_shards);
    }

    /// <summary>The open shards in hash-key order.</summary>
    public IReadOnlyList<ShardRecord> Shards { get; }

    /// <summary>The open shard holding <paramref name="hashKey"/>.</summary>
    /// <param name="hashKey">The hash key.</param>
    public ShardRecord Route(UInt128 hashKey)
    {
        var found = Array.BinarySearch(_starts, hashKey);
        return _shards[found >= 0 ? found : ~found - 1];
    }

    /// <summary>The open shard a partition key lands in (its MD5 hash key).</summary>
    /// <param name="partitionKey">The partition key.</param>
    public ShardRecord Route(ReadOnlySpan<char> partitionKey) => Route(HashKey.FromPartitionKey(partitionKey));
}
