using Streams.Server.Shards.V1;

namespace Streams.Server.Shards;

/// <summary>
/// The idempotent producers of one shard, as of the last applied batch: each producer's latest
/// batches, so that a retried batch can be answered with the sequence numbers it got the first
/// time. Bounded: beyond <see cref="MaxProducers"/> the producer whose latest batch is oldest is
/// forgotten (every replica forgets the same one, since this is driven by the applied log only).
/// </summary>
internal sealed class ProducerTable
{
    /// <summary>Producers remembered per shard.</summary>
    public const int MaxProducers = 10_000;

    /// <summary>Batches remembered per producer: how far back a retry can still be answered.</summary>
    public const int BatchesPerProducer = 8;

    private readonly Dictionary<ulong, List<ProducerBatch>> _producers = [];

    // Producers by the index of their latest batch, oldest first, to evict deterministically.
    private readonly SortedDictionary<long, ulong> _byLatestIndex = [];

    /// <summary>Producers held.</summary>
    public int Count => _producers.Count;

    /// <summary>The producer's latest batch, if it is known.</summary>
    public ProducerBatch? Latest(ulong producerId) =>
        _producers.TryGetValue(producerId, out var batches) ? batches[^1] : null;

    /// <summary>The producer's batch with <paramref name="sequence"/>, if it is still remembered.</summary>
    public ProducerBatch? Find(ulong producerId, int sequence)
    {
        if (_producers.TryGetValue(producerId, out var batches))
        {
            foreach (var batch in batches)
            {
                if (batch.Sequence == sequence)
                {
                    return batch;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Records an applied batch. Returns false, recording nothing, when its sequence is not after
    /// the producer's latest (a duplicate that reached the log).
    /// </summary>
    public bool Record(ulong producerId, ProducerBatch batch)
    {
        if (_producers.TryGetValue(producerId, out var batches))
        {
            var latest = batches[^1];
            if (batch.Sequence <= latest.Sequence)
            {
                return false;
            }

            _byLatestIndex.Remove(latest.Index);
            if (batches.Count == BatchesPerProducer)
            {
                batches.RemoveAt(0);
            }

            batches.Add(batch);
        }
        else
        {
            if (_producers.Count == MaxProducers)
            {
                var (oldestIndex, oldest) = _byLatestIndex.First();
                _byLatestIndex.Remove(oldestIndex);
                _producers.Remove(oldest);
            }

            _producers.Add(producerId, [batch]);
        }

        _byLatestIndex[batch.Index] = producerId;
        return true;
    }

    /// <summary>Writes the table into a snapshot.</summary>
    public void WriteTo(ShardSnapshot snapshot)
    {
        foreach (var (_, producerId) in _byLatestIndex)
        {
            var entry = new ProducerEntry { ProducerId = producerId };
            foreach (var batch in _producers[producerId])
            {
                entry.Batches.Add(new V1.ProducerBatch { Sequence = batch.Sequence, Index = batch.Index, RecordCount = batch.RecordCount });
            }

            snapshot.Producers.Add(entry);
        }
    }

    /// <summary>Replaces the table with a snapshot's.</summary>
    public void ReadFrom(ShardSnapshot snapshot)
    {
        _producers.Clear();
        _byLatestIndex.Clear();
        foreach (var entry in snapshot.Producers)
        {
            if (entry.Batches.Count == 0)
            {
                continue;
            }

            var batches = entry.Batches.Select(b => new ProducerBatch(b.Sequence, b.Index, b.RecordCount)).ToList();
            _producers[entry.ProducerId] = batches;
            _byLatestIndex[batches[^1].Index] = entry.ProducerId;
        }
    }
}
