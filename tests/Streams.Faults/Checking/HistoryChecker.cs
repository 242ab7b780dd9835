using Streams.Faults.Workload;

namespace Streams.Faults.Checking;

/// <summary>
/// Judges a run from what the clients saw and what the shards hold at the end: no acknowledged
/// record lost, none stored twice, the order of each producer's partition key kept, no sequence
/// number given to two records, replicas alike, every record delivered to the group and in order
/// within a lease, acknowledged checkpoints never undone, and writes served again soon after each heal.
/// Pure: the same input gives the same findings.
/// </summary>
internal static class HistoryChecker
{
    /// <summary>Findings of one property beyond this many are counted, not listed.</summary>
    public const int MaxFindingsPerProperty = 20;

    /// <summary>A stretch without an acknowledged write on a shard longer than this is an availability gap.</summary>
    public const double GapSeconds = 1.0;

    public static CheckReport Check(CheckInput input)
    {
        var findings = new FindingList();
        var stored = ReferenceReads(input, findings);
        var sentIds = new HashSet<RecordId>(input.Sent.Select(s => s.Id));
        var keys = input.Sent.ToDictionary(s => s.Id, s => s.PartitionKey);
        var placements = IndexStored(stored, sentIds, findings);
        var bySequence = BySequence(stored);
        CheckAcknowledged(input, bySequence, placements, findings);
        CheckOrder(stored, keys, findings);
        CheckDeliveries(input, stored, bySequence, findings);
        CheckCheckpoints(input, bySequence, findings);
        foreach (var refusal in input.Refusals)
        {
            findings.Add(Finding.Refused, refusal);
        }

        foreach (var failure in input.Failed.Where(f => f.Error == "InvalidArgumentException"))
        {
            findings.Add(Finding.Refused, $"{failure.Id} was refused as invalid at {failure.At:F1} s");
        }

        var recoveries = Recoveries(input, findings);
        var gaps = Gaps(input);
        return new CheckReport(
            findings.All,
            input.Sent.Count,
            input.Acked.Count,
            input.Failed.Count,
            stored.Values.Sum(r => r.Count),
            input.Delivered.Count,
            input.Checkpoints.Count,
            recoveries,
            gaps);
    }

    // Per shard the longest read; every other node's read must be the same (a replica a few
    // records behind is reported as behind, a different record at a place as diverged).
    private static Dictionary<string, IReadOnlyList<StoredRecord>> ReferenceReads(CheckInput input, FindingList findings)
    {
        var reference = new Dictionary<string, IReadOnlyList<StoredRecord>>(StringComparer.Ordinal);
        foreach (var shardId in input.ShardIds)
        {
            var reads = input.Reads.Where(r => r.ShardId == shardId).ToList();
            if (reads.Count == 0)
            {
                findings.Add(Finding.Lost, $"{shardId} was not read back at all");
                reference[shardId] = [];
                continue;
            }

            // Of the longest reads, the one most nodes agree with, so that the odd one out is named.
            var longest = reads.OrderByDescending(r => r.Records.Count).ThenByDescending(r => reads.Count(o => o.Records.SequenceEqual(r.Records))).First();
            reference[shardId] = longest.Records;
            foreach (var read in reads.Where(r => !ReferenceEquals(r, longest)))
            {
                var firstDifference = Enumerable.Range(0, read.Records.Count).FirstOrDefault(i => read.Records[i] != longest.Records[i], -1);
                if (firstDifference >= 0)
                {
                    findings.Add(Finding.ReplicasAgree, $"{shardId}: {read.Node} holds {Describe(read.Records[firstDifference])} where {longest.Node} holds {Describe(longest.Records[firstDifference])}");
                }
                else if (read.Records.Count < longest.Records.Count)
                {
                    findings.Add(Finding.ReplicasAgree, $"{shardId}: {read.Node} holds {read.Records.Count} records, {longest.Node} {longest.Records.Count}, after the cluster was healed and quiet");
                }
            }
        }

        return reference;
    }

    private static Dictionary<RecordId, List<(string ShardId, string SequenceNumber)>> IndexStored(Dictionary<string, IReadOnlyList<StoredRecord>> stored, HashSet<RecordId> sent, FindingList findings)
    {
        var placements = new Dictionary<RecordId, List<(string, string)>>();
        foreach (var (shardId, records) in stored)
        {
            for (var i = 0; i < records.Count; i++)
            {
                var record = records[i];
                if (i > 0 && SequenceNumbers.Compare(records[i - 1].SequenceNumber, record.SequenceNumber) >= 0)
                {
                    findings.Add(Finding.SequenceReused, $"{shardId}: {Describe(record)} follows {Describe(records[i - 1])}: sequence numbers must rise");
                }

                if (record.Id is not { } id || !sent.Contains(id))
                {
                    findings.Add(Finding.Unknown, $"{shardId}: {Describe(record)} was never sent");
                    continue;
                }

                if (!placements.TryGetValue(id, out var places))
                {
                    placements[id] = places = [];
                }

                places.Add((shardId, record.SequenceNumber));
            }
        }

        foreach (var (id, places) in placements.Where(p => p.Value.Count > 1))
        {
            findings.Add(Finding.Duplicated, $"{id} is stored {places.Count} times: {string.Join(", ", places.Select(p => $"{p.Item1} #{p.Item2}"))}");
        }

        return placements;
    }

    // Per shard, each sequence number's record and its position in the shard (the first, should one be held twice).
    private static Dictionary<string, Dictionary<string, (StoredRecord Record, int Index)>> BySequence(Dictionary<string, IReadOnlyList<StoredRecord>> stored) =>
        stored.ToDictionary(
            s => s.Key,
            s => s.Value.Select((r, i) => (Record: r, Index: i)).GroupBy(p => p.Record.SequenceNumber, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal),
            StringComparer.Ordinal);

    private static void CheckAcknowledged(CheckInput input, Dictionary<string, Dictionary<string, (StoredRecord Record, int Index)>> bySequence, Dictionary<RecordId, List<(string ShardId, string SequenceNumber)>> placements, FindingList findings)
    {
        var ackedAt = new Dictionary<(string, string), AckedRecord>();
        foreach (var ack in input.Acked)
        {
            if (ackedAt.TryGetValue((ack.ShardId, ack.SequenceNumber), out var other) && other.Id != ack.Id)
            {
                findings.Add(Finding.SequenceReused, $"{ack.ShardId} #{ack.SequenceNumber} was acknowledged for {other.Id} at {other.At:F1} s and for {ack.Id} at {ack.At:F1} s");
            }

            ackedAt[(ack.ShardId, ack.SequenceNumber)] = ack;
            if (!placements.TryGetValue(ack.Id, out var places))
            {
                var there = bySequence.TryGetValue(ack.ShardId, out var shard) && shard.TryGetValue(ack.SequenceNumber, out var holder) ? $"; that place holds {Describe(holder.Record)}" : "; nothing is stored at that place";
                findings.Add(Finding.Lost, $"{ack.Id} acknowledged at {ack.At:F1} s as {ack.ShardId} #{ack.SequenceNumber} is not stored{there}");
            }
            else if (!places.Contains((ack.ShardId, ack.SequenceNumber)))
            {
                findings.Add(Finding.Lost, $"{ack.Id} acknowledged at {ack.At:F1} s as {ack.ShardId} #{ack.SequenceNumber} is stored at {string.Join(", ", places.Select(p => $"{p.ShardId} #{p.SequenceNumber}"))} instead");
            }
        }
    }

    // Each producer's records of one partition key must be stored in the order it sent them.
    private static void CheckOrder(Dictionary<string, IReadOnlyList<StoredRecord>> stored, Dictionary<RecordId, string> keys, FindingList findings)
    {
        foreach (var (shardId, records) in stored)
        {
            var last = new Dictionary<(int Producer, string Key), StoredRecord>();
            foreach (var record in records)
            {
                if (record.Id is not { } id || !keys.TryGetValue(id, out var key))
                {
                    continue;
                }

                if (last.TryGetValue((id.Producer, key), out var previous) && previous.Id!.Value.Number > id.Number)
                {
                    findings.Add(Finding.Order, $"{shardId}: {Describe(record)} is stored after {Describe(previous)}, though producer {id.Producer} sent it first (key '{key}')");
                }

                last[(id.Producer, key)] = record;
            }
        }
    }

    // Deliveries come in runs: a member reading a shard under one lease from some record on, one
    // record after another. A run may begin again lower under the same lease (a member that stopped
    // its readers while it could not reach the group, and took up its still valid lease again), as
    // at-least-once allows, but never at or below a checkpoint that was acknowledged before it.
    private static void CheckDeliveries(CheckInput input, Dictionary<string, IReadOnlyList<StoredRecord>> stored, Dictionary<string, Dictionary<string, (StoredRecord Record, int Index)>> bySequence, FindingList findings)
    {
        var checkpoints = input.Checkpoints.GroupBy(c => c.ShardId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Ended).ToList(), StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        var last = new Dictionary<(string Member, string ShardId, long Epoch), (DeliveredRecord Delivery, int Index)>();
        foreach (var delivery in input.Delivered)
        {
            seen.Add((delivery.ShardId, delivery.SequenceNumber));
            var index = -1;
            if (bySequence.TryGetValue(delivery.ShardId, out var shard) && shard.TryGetValue(delivery.SequenceNumber, out var place) && place.Record.Id == delivery.Id)
            {
                index = place.Index;
            }
            else
            {
                findings.Add(Finding.Unknown, $"{delivery.Member} was handed {delivery.Id} as {delivery.ShardId} #{delivery.SequenceNumber} at {delivery.At:F1} s, which the shard does not hold there");
            }

            var lease = (delivery.Member, delivery.ShardId, delivery.LeaseEpoch);
            if (last.TryGetValue(lease, out var previous) && SequenceNumbers.Compare(previous.Delivery.SequenceNumber, delivery.SequenceNumber) < 0)
            {
                if (index >= 0 && previous.Index >= 0 && index != previous.Index + 1)
                {
                    findings.Add(Finding.DeliveryOrder, $"{delivery.Member} (lease {delivery.LeaseEpoch} on {delivery.ShardId}) was handed #{delivery.SequenceNumber} right after #{previous.Delivery.SequenceNumber}, skipping {index - previous.Index - 1} stored record(s)");
                }
            }
            else if (checkpoints.TryGetValue(delivery.ShardId, out var shardCheckpoints))
            {
                // A run begins: it must start past every checkpoint acknowledged before it.
                var highest = shardCheckpoints.TakeWhile(c => c.Ended < delivery.At).Where(c => c.LeaseEpoch <= delivery.LeaseEpoch)
                    .MaxBy(c => c.SequenceNumber, Comparer<string>.Create(SequenceNumbers.Compare));
                if (highest is not null && SequenceNumbers.Compare(delivery.SequenceNumber, highest.SequenceNumber) <= 0)
                {
                    findings.Add(Finding.CheckpointBackwards, $"{delivery.ShardId}: {delivery.Member} (lease {delivery.LeaseEpoch}) began reading at #{delivery.SequenceNumber} at {delivery.At:F1} s, at or before #{highest.SequenceNumber}, which {highest.Member} (lease {highest.LeaseEpoch}) had checkpointed at {highest.Ended:F1} s");
                }
            }

            last[lease] = (delivery, index);
        }

        if (!input.ExpectDeliveries)
        {
            return;
        }

        foreach (var (shardId, records) in stored)
        {
            var missing = records.Where(r => !seen.Contains((shardId, r.SequenceNumber))).ToList();
            if (missing.Count > 0)
            {
                findings.Add(Finding.Delivered, $"{shardId}: {missing.Count} of {records.Count} stored records never reached a consumer, the first {Describe(missing[0])}");
            }
        }
    }

    private static void CheckCheckpoints(CheckInput input, Dictionary<string, Dictionary<string, (StoredRecord Record, int Index)>> bySequence, FindingList findings)
    {
        foreach (var shard in input.Checkpoints.GroupBy(c => c.ShardId, StringComparer.Ordinal))
        {
            var held = bySequence.GetValueOrDefault(shard.Key);
            foreach (var checkpoint in shard.Where(c => held is null || !held.ContainsKey(c.SequenceNumber)))
            {
                findings.Add(Finding.CheckpointBackwards, $"{checkpoint.Member} checkpointed {shard.Key} at #{checkpoint.SequenceNumber}, which the shard does not hold");
            }

            // A checkpoint asked for after another was acknowledged may not be lower than it.
            var byEnd = shard.OrderBy(c => c.Ended).ToList();
            var highest = default(CommittedCheckpoint);
            var next = 0;
            foreach (var checkpoint in shard.OrderBy(c => c.Started))
            {
                for (; next < byEnd.Count && byEnd[next].Ended < checkpoint.Started; next++)
                {
                    if (highest is null || SequenceNumbers.Compare(byEnd[next].SequenceNumber, highest.SequenceNumber) > 0)
                    {
                        highest = byEnd[next];
                    }
                }

                if (highest is not null && SequenceNumbers.Compare(checkpoint.SequenceNumber, highest.SequenceNumber) < 0)
                {
                    findings.Add(Finding.CheckpointBackwards, $"{shard.Key}: {checkpoint.Member} (lease {checkpoint.LeaseEpoch}) checkpointed #{checkpoint.SequenceNumber} at {checkpoint.Ended:F1} s, below #{highest.SequenceNumber} that {highest.Member} (lease {highest.LeaseEpoch}) had checkpointed at {highest.Ended:F1} s");
                }
            }

            var top = shard.Select(c => c.SequenceNumber).Aggregate(SequenceNumbers.Max);
            if (input.FinalCheckpoints is not null && (!input.FinalCheckpoints.TryGetValue(shard.Key, out var final) || SequenceNumbers.Compare(final, top) < 0))
            {
                findings.Add(Finding.CheckpointBackwards, $"{shard.Key}: the group's checkpoint at the end is {(final is null ? "none" : "#" + final)}, below #{top}, which was acknowledged");
            }
        }
    }

    private static List<Recovery> Recoveries(CheckInput input, FindingList findings)
    {
        var bound = input.RecoveryBound.TotalSeconds;
        var acksByShard = input.ShardIds.ToDictionary(s => s, _ => new List<double>(), StringComparer.Ordinal);
        foreach (var ack in input.Acked)
        {
            if (acksByShard.TryGetValue(ack.ShardId, out var times))
            {
                times.Add(ack.At);
            }
        }

        foreach (var times in acksByShard.Values)
        {
            times.Sort();
        }

        var recoveries = new List<Recovery>();
        foreach (var fault in input.Faults.OrderBy(f => f.Healed))
        {
            var slowest = 0.0;
            string? late = null;
            foreach (var (shardId, times) in acksByShard)
            {
                var index = times.BinarySearch(fault.Healed);
                index = index < 0 ? ~index : index;
                var after = index < times.Count ? times[index] - fault.Healed : double.PositiveInfinity;
                if (after > bound)
                {
                    late ??= shardId;
                }

                slowest = Math.Max(slowest, after);
            }

            if (late is null)
            {
                recoveries.Add(new Recovery(fault, slowest));
            }
            else if (fault.Healed + bound <= input.SendingStoppedAt)
            {
                recoveries.Add(new Recovery(fault, null));
                findings.Add(Finding.Recovery, $"{late} acknowledged no write within {bound:F0} s after '{fault.Description}' was healed at {fault.Healed:F1} s");
            }

            // Else the producers stopped before the bound was up: not judged.
        }

        return recoveries;
    }

    private static List<AvailabilityGap> Gaps(CheckInput input)
    {
        var gaps = new List<AvailabilityGap>();
        foreach (var shard in input.Acked.GroupBy(a => a.ShardId, StringComparer.Ordinal))
        {
            var times = shard.Select(a => a.At).Order().ToList();
            for (var i = 1; i < times.Count; i++)
            {
                if (times[i] - times[i - 1] > GapSeconds)
                {
                    gaps.Add(new AvailabilityGap(shard.Key, times[i - 1], times[i] - times[i - 1]));
                }
            }
        }

        return [.. gaps.OrderBy(g => g.Start)];
    }

    private static string Describe(StoredRecord record) => $"#{record.SequenceNumber} {(record.Id is { } id ? id.ToString() : "(unknown data)")}";

    // Keeps the report readable when one fault breaks thousands of records.
    private sealed class FindingList
    {
        private readonly List<Finding> _findings = [];
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        public IReadOnlyList<Finding> All =>
        [
            .. _findings,
            .. _counts.Where(c => c.Value > MaxFindingsPerProperty).Select(c => new Finding(c.Key, $"... and {c.Value - MaxFindingsPerProperty} more like these")),
        ];

        public void Add(string property, string message)
        {
            var count = _counts[property] = _counts.GetValueOrDefault(property) + 1;
            if (count <= MaxFindingsPerProperty)
            {
                _findings.Add(new Finding(property, message));
            }
        }
    }
}
