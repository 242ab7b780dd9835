using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Streams.Faults.Checking;
using Streams.Faults.Workload;

namespace Streams.Faults.Tests;

/// <summary>
/// The checker is what proves a fault run right, so each property is shown to hold on a clean
/// history and to be reported, with the record and shard named, on a history that breaks it.
/// </summary>
public sealed class HistoryCheckerTests
{
    private const string Shard0 = "shardId-000000000000";
    private const string Shard1 = "shardId-000000000001";
    private const string Member1 = "member-1";
    private const string Member2 = "member-2";

    private static readonly string[] _nodes = ["node-1", "node-2", "node-3"];

    // ---- a clean history passes ----

    [Fact]
    public void A_clean_history_passes_every_property()
    {
        var input = Clean();

        var report = HistoryChecker.Check(input);

        Assert.Empty(report.Findings);
        Assert.True(report.Passed);
        Assert.Equal(24, report.Sent);
        Assert.Equal(24, report.Acked);
        Assert.Equal(24, report.Stored);
        Assert.Equal(24, report.Deliveries);
        Assert.Equal(6, report.Checkpoints);
        Assert.Equal(0, report.Failed);
        var recovery = Assert.Single(report.Recoveries);
        Assert.NotNull(recovery.Seconds);
        Assert.Empty(report.Gaps);
    }

    [Fact]
    public void A_clean_history_without_consumers_passes_when_no_deliveries_are_expected()
    {
        var report = HistoryChecker.Check(WithoutConsumers(Clean()));

        Assert.Empty(report.Findings);
        Assert.Equal(0, report.Deliveries);
    }

    [Fact]
    public void Sequence_numbers_are_compared_by_length_before_their_digits()
    {
        var id0 = new RecordId(1, 0);
        var id1 = new RecordId(1, 1);
        var stored = new[] { new StoredRecord("9", id0, "k"), new StoredRecord("10", id1, "k") };
        var input = new CheckInput
        {
            Sent = [new SentRecord(id0, "k", 0), new SentRecord(id1, "k", 0.1)],
            Acked = [new AckedRecord(id0, Shard0, "9", 0.2), new AckedRecord(id1, Shard0, "10", 0.3)],
            ShardIds = [Shard0],
            Reads = [new ShardReplicaRead("node-1", Shard0, stored)],
            ExpectDeliveries = false,
        };

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    // ---- no acknowledged record lost ----

    [Fact]
    public void An_acknowledged_record_missing_from_the_reads_is_reported_lost()
    {
        var input = WithoutConsumers(Clean());
        var victim = input.Acked.First(a => a.ShardId == Shard1);
        input = Rewrite(input, Shard1, records => [.. records.Where(r => r.Id != victim.Id)]);

        var report = HistoryChecker.Check(input);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(Finding.Lost, finding.Property);
        Assert.Contains($"{victim.Id} acknowledged", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"{Shard1} #{victim.SequenceNumber}", finding.Message, StringComparison.Ordinal);
        Assert.Contains("not stored", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_acknowledged_record_whose_place_holds_another_record_is_reported_lost_and_names_that_record()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard0);
        var victim = stored[2];
        var usurper = new RecordId(7, 0);
        input = input with { Sent = [.. input.Sent, new SentRecord(usurper, "p7-key", 1)] };
        input = Rewrite(input, Shard0, records => [.. records.Select(r => r == victim ? r with { Id = usurper } : r)]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Lost, finding.Property);
        Assert.Contains($"{victim.Id} acknowledged", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"that place holds #{victim.SequenceNumber} {usurper}", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_acknowledged_at_one_place_but_stored_at_another_is_reported_lost()
    {
        var input = WithoutConsumers(Clean());
        var victim = input.Acked.First(a => a.ShardId == Shard0);
        var claimed = Seq(1000);
        input = input with { Acked = [.. input.Acked.Select(a => a == victim ? a with { SequenceNumber = claimed } : a)] };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Lost, finding.Property);
        Assert.Contains($"{victim.Id} acknowledged", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"{Shard0} #{claimed}", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"is stored at {Shard0} #{victim.SequenceNumber} instead", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_acknowledged_on_one_shard_but_stored_on_another_is_reported_lost()
    {
        // Shard 0 holds 13 records, shard 1 twelve: the last of shard 0's places is free on shard 1.
        var input = WithoutConsumers(Clean(records: 25));
        var victim = input.Acked.Last(a => a.ShardId == Shard0);
        input = input with { Acked = [.. input.Acked.Select(a => a == victim ? a with { ShardId = Shard1 } : a)] };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Lost, finding.Property);
        Assert.Contains($"as {Shard1} #{victim.SequenceNumber}", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"stored at {Shard0} #{victim.SequenceNumber} instead", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_not_read_back_at_all_is_reported_lost()
    {
        var input = WithoutConsumers(Clean());
        input = input with { Reads = [.. input.Reads.Where(r => r.ShardId != Shard1)] };

        var report = HistoryChecker.Check(input);

        Assert.All(report.Findings, f => Assert.Equal(Finding.Lost, f.Property));
        Assert.Contains(report.Findings, f => f.Message == $"{Shard1} was not read back at all");
        var acked = input.Acked.Count(a => a.ShardId == Shard1);
        Assert.Equal(1 + acked, report.Findings.Count);
    }

    [Fact]
    public void An_unacknowledged_record_may_be_stored_or_not()
    {
        var input = WithoutConsumers(Clean());
        var failed = input.Acked.First(a => a.ShardId == Shard0);
        var missing = input.Acked.First(a => a.ShardId == Shard1);
        input = input with
        {
            Acked = [.. input.Acked.Where(a => a != failed && a != missing)],
            Failed = [new FailedRecord(failed.Id, "ServiceUnavailableException", 3), new FailedRecord(missing.Id, "TimeoutException", 3)],
        };
        input = Rewrite(input, Shard1, records => [.. records.Where(r => r.Id != missing.Id)]);

        var report = HistoryChecker.Check(input);

        Assert.Empty(report.Findings);
        Assert.Equal(2, report.Failed);
    }

    // ---- no record stored twice ----

    [Fact]
    public void A_record_stored_twice_is_reported_duplicated()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard0);
        var twice = stored[^1];
        var again = Seq(1000);
        input = Rewrite(input, Shard0, records => [.. records, twice with { SequenceNumber = again }]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Duplicated, finding.Property);
        Assert.Equal($"{twice.Id} is stored 2 times: {Shard0} #{twice.SequenceNumber}, {Shard0} #{again}", finding.Message);
    }

    [Fact]
    public void A_record_stored_on_two_shards_is_reported_duplicated()
    {
        var input = WithoutConsumers(Clean());
        var twice = StoredOn(input, Shard0)[^1];
        input = Rewrite(input, Shard1, records => [.. records, twice with { SequenceNumber = Seq(1000) }]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Duplicated, finding.Property);
        Assert.Contains($"{twice.Id} is stored 2 times", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"{Shard1} #{Seq(1000)}", finding.Message, StringComparison.Ordinal);
    }

    // ---- nothing stored that was not sent ----

    [Fact]
    public void A_stored_record_that_was_never_sent_is_reported_unknown()
    {
        var input = WithoutConsumers(Clean());
        var stranger = new RecordId(9, 0);
        input = Rewrite(input, Shard1, records => [.. records, new StoredRecord(Seq(1000), stranger, "p9-key")]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Unknown, finding.Property);
        Assert.Equal($"{Shard1}: #{Seq(1000)} {stranger} was never sent", finding.Message);
    }

    [Fact]
    public void Stored_data_the_workload_never_wrote_is_reported_unknown()
    {
        var input = WithoutConsumers(Clean());
        input = Rewrite(input, Shard0, records => [.. records, new StoredRecord(Seq(1000), null, "garbage")]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Unknown, finding.Property);
        Assert.Equal($"{Shard0}: #{Seq(1000)} (unknown data) was never sent", finding.Message);
    }

    // ---- order within each shard kept ----

    [Fact]
    public void A_producers_records_of_one_key_stored_out_of_order_are_reported()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard0);
        var first = stored[0];
        var second = stored.Skip(1).First(r => r.Id!.Value.Producer == first.Id!.Value.Producer && r.PartitionKey == first.PartitionKey);
        // The cluster stored (and acknowledged) the later record at the earlier place.
        input = Rewrite(input, Shard0, records => [.. records.Select(r => r == first ? r with { Id = second.Id } : r == second ? r with { Id = first.Id } : r)]);
        input = input with
        {
            Acked = [.. input.Acked.Select(a =>
                a.Id == first.Id ? a with { SequenceNumber = second.SequenceNumber }
                : a.Id == second.Id ? a with { SequenceNumber = first.SequenceNumber }
                : a)],
        };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Order, finding.Property);
        Assert.Contains($"{Shard0}: #{second.SequenceNumber} {first.Id} is stored after #{first.SequenceNumber} {second.Id}", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"'{first.PartitionKey}'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_of_different_producers_or_keys_may_interleave_in_any_order()
    {
        var a = new RecordId(1, 0);
        var b = new RecordId(1, 1);
        var c = new RecordId(2, 0);
        var d = new RecordId(2, 1);
        // p1 sent a (key x) then b (key y); p2 sent c then d (key z); stored b, d, a, c.
        var stored = new[]
        {
            new StoredRecord(Seq(1), b, "y"),
            new StoredRecord(Seq(2), d, "z2"),
            new StoredRecord(Seq(3), a, "x"),
            new StoredRecord(Seq(4), c, "z"),
        };
        var input = new CheckInput
        {
            Sent = [new SentRecord(a, "x", 0), new SentRecord(b, "y", 0.1), new SentRecord(c, "z", 0.2), new SentRecord(d, "z2", 0.3)],
            Acked = [.. stored.Select((r, i) => new AckedRecord(r.Id!.Value, Shard0, r.SequenceNumber, 1 + (i * 0.1)))],
            ShardIds = [Shard0],
            Reads = [new ShardReplicaRead("node-1", Shard0, stored)],
            ExpectDeliveries = false,
        };

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    // ---- sequence numbers never reused ----

    [Fact]
    public void Two_acknowledgements_of_one_place_for_different_records_are_reported_as_reuse()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard0);
        var holder = input.Acked.Single(a => a.Id == stored[1].Id);
        var other = input.Acked.Single(a => a.Id == stored[2].Id);
        input = input with { Acked = [.. input.Acked.Select(a => a == other ? a with { SequenceNumber = holder.SequenceNumber } : a)] };

        var report = HistoryChecker.Check(input);

        var reuse = Assert.Single(report.Findings, f => f.Property == Finding.SequenceReused);
        Assert.Contains($"{Shard0} #{holder.SequenceNumber} was acknowledged for {holder.Id}", reuse.Message, StringComparison.Ordinal);
        Assert.Contains($"and for {other.Id}", reuse.Message, StringComparison.Ordinal);
        // The second record is not where its acknowledgement says, either.
        var lost = Assert.Single(report.Findings, f => f.Property == Finding.Lost);
        Assert.Contains($"{other.Id} acknowledged", lost.Message, StringComparison.Ordinal);
        Assert.Equal(2, report.Findings.Count);
    }

    [Fact]
    public void The_same_record_acknowledged_twice_at_one_place_is_not_reuse()
    {
        var input = WithoutConsumers(Clean());
        var again = input.Acked.First();
        input = input with { Acked = [.. input.Acked, again with { At = again.At + 5 }] };

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    [Fact]
    public void A_read_whose_sequence_numbers_do_not_rise_is_reported_as_reuse()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard1);
        var (early, late) = (stored[4], stored[5]);
        // The two records swap their sequence numbers (and were acknowledged so), so the read falls back.
        input = Rewrite(input, Shard1, records => [.. records.Select(r => r == early ? r with { SequenceNumber = late.SequenceNumber } : r == late ? r with { SequenceNumber = early.SequenceNumber } : r)]);
        input = input with
        {
            Acked = [.. input.Acked.Select(a =>
                a.Id == early.Id ? a with { SequenceNumber = late.SequenceNumber }
                : a.Id == late.Id ? a with { SequenceNumber = early.SequenceNumber }
                : a)],
        };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.SequenceReused, finding.Property);
        Assert.Equal($"{Shard1}: #{early.SequenceNumber} {late.Id} follows #{late.SequenceNumber} {early.Id}: sequence numbers must rise", finding.Message);
    }

    [Fact]
    public void A_read_holding_one_sequence_number_twice_is_reported_as_reuse()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard0);
        var extra = new RecordId(9, 0);
        input = input with { Sent = [.. input.Sent, new SentRecord(extra, "p9-key", 1)] };
        input = Rewrite(input, Shard0, records => [.. records, new StoredRecord(stored[^1].SequenceNumber, extra, "p9-key")]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.SequenceReused, finding.Property);
        Assert.Contains($"#{stored[^1].SequenceNumber} {extra} follows #{stored[^1].SequenceNumber} {stored[^1].Id}", finding.Message, StringComparison.Ordinal);
    }

    // ---- replicas hold the same records ----

    [Fact]
    public void A_replica_holding_a_different_record_is_reported()
    {
        var input = WithoutConsumers(Clean());
        var stored = StoredOn(input, Shard0);
        var other = stored[3] with { Id = new RecordId(9, 9) };
        input = input with
        {
            Reads = [.. input.Reads.Select(r => r.Node == "node-2" && r.ShardId == Shard0 ? r with { Records = [.. r.Records.Select(s => s == stored[3] ? other : s)] } : r)],
        };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.ReplicasAgree, finding.Property);
        Assert.Equal($"{Shard0}: node-2 holds #{other.SequenceNumber} p9-9 where node-1 holds #{stored[3].SequenceNumber} {stored[3].Id}", finding.Message);
    }

    [Fact]
    public void A_replica_holding_fewer_records_is_reported()
    {
        var input = WithoutConsumers(Clean());
        var count = StoredOn(input, Shard1).Count;
        input = input with
        {
            Reads = [.. input.Reads.Select(r => r.Node == "node-3" && r.ShardId == Shard1 ? r with { Records = [.. r.Records.Take(count - 2)] } : r)],
        };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.ReplicasAgree, finding.Property);
        Assert.StartsWith($"{Shard1}: node-3 holds {count - 2} records, node-1 {count}", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_replica_with_a_record_the_others_lack_makes_the_others_behind_and_its_record_counts_as_stored()
    {
        var input = WithoutConsumers(Clean());
        var extra = new RecordId(9, 0);
        input = input with
        {
            Sent = [.. input.Sent, new SentRecord(extra, "p9-key", 1)],
            Reads = [.. input.Reads.Select(r => r.Node == "node-2" && r.ShardId == Shard0 ? r with { Records = [.. r.Records, new StoredRecord(Seq(1000), extra, "p9-key")] } : r)],
        };

        var report = HistoryChecker.Check(input);

        Assert.Equal(2, report.Findings.Count);
        Assert.All(report.Findings, f => Assert.Equal(Finding.ReplicasAgree, f.Property));
        Assert.Contains(report.Findings, f => f.Message.StartsWith($"{Shard0}: node-1 holds", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Message.StartsWith($"{Shard0}: node-3 holds", StringComparison.Ordinal));
    }

    // ---- every stored record delivered to the group ----

    [Fact]
    public void A_stored_record_no_consumer_got_is_reported_when_deliveries_are_expected()
    {
        var input = Clean();
        var last = StoredOn(input, Shard1)[^1];
        input = input with { Delivered = [.. input.Delivered.Where(d => d.Id != last.Id)] };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Delivered, finding.Property);
        Assert.Equal($"{Shard1}: 1 of {StoredOn(input, Shard1).Count} stored records never reached a consumer, the first #{last.SequenceNumber} {last.Id}", finding.Message);
    }

    [Fact]
    public void A_stored_record_no_consumer_got_is_not_reported_when_no_deliveries_are_expected()
    {
        var input = Clean();
        var last = StoredOn(input, Shard1)[^1];
        input = input with { Delivered = [.. input.Delivered.Where(d => d.Id != last.Id)], ExpectDeliveries = false };

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    [Fact]
    public void A_delivery_of_a_record_the_shard_does_not_hold_is_reported_unknown()
    {
        var input = Clean();
        var stranger = new DeliveredRecord(Member1, Shard0, 1, Seq(1000), new RecordId(9, 0), 50);
        input = input with { Delivered = [.. input.Delivered, stranger] };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Unknown, finding.Property);
        Assert.Contains($"{Member1} was handed p9-0 as {Shard0} #{Seq(1000)}", finding.Message, StringComparison.Ordinal);
    }

    // ---- no record skipped within a lease ----

    [Fact]
    public void A_delivery_run_that_skips_a_stored_record_within_one_lease_is_reported()
    {
        var input = OneShard();
        var stored = StoredOn(input, Shard0);
        // member-1 skips record 5; member-2 (a later lease) gets it, so every record reaches the group.
        input = WithConsumers(
            input,
            [.. Deliver(input, Member1, 1, 0, 4, at: 10), .. Deliver(input, Member1, 1, 6, 11, at: 11), .. Deliver(input, Member2, 2, 5, 5, at: 12)],
            []);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.DeliveryOrder, finding.Property);
        Assert.Equal($"{Member1} (lease 1 on {Shard0}) was handed #{stored[6].SequenceNumber} right after #{stored[4].SequenceNumber}, skipping 1 stored record(s)", finding.Message);
    }

    [Fact]
    public void A_skip_across_leases_is_not_a_skip_within_a_lease()
    {
        var input = OneShard();
        input = WithConsumers(
            input,
            [.. Deliver(input, Member1, 1, 0, 5, at: 10), .. Deliver(input, Member2, 2, 8, 11, at: 11), .. Deliver(input, Member1, 3, 6, 7, at: 12)],
            []);

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    // ---- checkpoints never moved backwards ----

    [Fact]
    public void A_delivery_run_restarting_at_an_acknowledged_checkpoint_under_the_same_lease_is_reported()
    {
        var input = OneShard();
        var stored = StoredOn(input, Shard0);
        input = WithConsumers(
            input,
            [.. Deliver(input, Member1, 1, 0, 7, at: 10), .. Deliver(input, Member1, 1, 3, 11, at: 20)],
            [Checkpoint(input, Member1, 1, 3, started: 15, ended: 15.5)]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.CheckpointBackwards, finding.Property);
        Assert.Equal($"{Shard0}: {Member1} (lease 1) began reading at #{stored[3].SequenceNumber} at 20.0 s, at or before #{stored[3].SequenceNumber}, which {Member1} (lease 1) had checkpointed at 15.5 s", finding.Message);
    }

    [Fact]
    public void A_new_lease_starting_below_an_acknowledged_checkpoint_is_reported()
    {
        var input = OneShard();
        var stored = StoredOn(input, Shard0);
        input = WithConsumers(
            input,
            [.. Deliver(input, Member1, 1, 0, 7, at: 10), .. Deliver(input, Member2, 2, 2, 11, at: 20)],
            [Checkpoint(input, Member1, 1, 5, started: 15, ended: 15.5)]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.CheckpointBackwards, finding.Property);
        Assert.Contains($"{Member2} (lease 2) began reading at #{stored[2].SequenceNumber}", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"#{stored[5].SequenceNumber}, which {Member1} (lease 1) had checkpointed", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delivery_run_restarting_above_the_last_acknowledged_checkpoint_under_the_same_lease_is_at_least_once_redelivery()
    {
        var input = OneShard();
        input = WithConsumers(
            input,
            [.. Deliver(input, Member1, 1, 0, 7, at: 10), .. Deliver(input, Member1, 1, 4, 11, at: 20)],
            [Checkpoint(input, Member1, 1, 3, started: 15, ended: 15.5)]);

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    [Fact]
    public void A_delivery_run_restarting_below_a_checkpoint_acknowledged_only_after_it_began_is_fine()
    {
        var input = OneShard();
        input = WithConsumers(
            input,
            [.. Deliver(input, Member1, 1, 0, 7, at: 10), .. Deliver(input, Member1, 1, 2, 11, at: 20)],
            [Checkpoint(input, Member1, 1, 5, started: 19, ended: 21)]);

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    [Fact]
    public void A_checkpoint_started_after_a_higher_one_was_acknowledged_is_reported_when_lower()
    {
        var input = OneShard();
        var stored = StoredOn(input, Shard0);
        input = WithConsumers(
            input,
            Deliver(input, Member1, 1, 0, 11, at: 1),
            [Checkpoint(input, Member1, 1, 7, started: 10, ended: 11), Checkpoint(input, Member2, 2, 4, started: 12, ended: 13)]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.CheckpointBackwards, finding.Property);
        Assert.Equal($"{Shard0}: {Member2} (lease 2) checkpointed #{stored[4].SequenceNumber} at 13.0 s, below #{stored[7].SequenceNumber} that {Member1} (lease 1) had checkpointed at 11.0 s", finding.Message);
    }

    [Fact]
    public void A_lower_checkpoint_asked_for_before_a_higher_one_was_acknowledged_is_fine()
    {
        var input = OneShard();
        input = WithConsumers(
            input,
            Deliver(input, Member1, 1, 0, 11, at: 1),
            [Checkpoint(input, Member1, 1, 7, started: 10, ended: 12), Checkpoint(input, Member2, 2, 4, started: 11, ended: 13)]);

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    [Fact]
    public void A_final_group_checkpoint_below_an_acknowledged_one_is_reported()
    {
        var input = Clean();
        var stored = StoredOn(input, Shard1);
        var finals = input.FinalCheckpoints!;
        var top = finals[Shard1];
        input = input with { FinalCheckpoints = new Dictionary<string, string>(finals) { [Shard1] = stored[3].SequenceNumber } };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.CheckpointBackwards, finding.Property);
        Assert.Equal($"{Shard1}: the group's checkpoint at the end is #{stored[3].SequenceNumber}, below #{top}, which was acknowledged", finding.Message);
    }

    [Fact]
    public void A_missing_final_group_checkpoint_of_a_checkpointed_shard_is_reported()
    {
        var input = Clean();
        input = input with { FinalCheckpoints = input.FinalCheckpoints!.Where(c => c.Key != Shard0).ToDictionary() };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.CheckpointBackwards, finding.Property);
        Assert.StartsWith($"{Shard0}: the group's checkpoint at the end is none, below #", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_final_group_checkpoint_gone_is_reported_while_final_checkpoints_that_could_not_be_read_are_not_judged()
    {
        var input = Clean();

        var gone = HistoryChecker.Check(input with { FinalCheckpoints = new Dictionary<string, string>() }).Findings;
        var unread = HistoryChecker.Check(input with { FinalCheckpoints = null }).Findings;

        Assert.NotEmpty(gone);
        Assert.All(gone, f => Assert.Equal(Finding.CheckpointBackwards, f.Property));
        Assert.Empty(unread);
    }

    [Fact]
    public void A_checkpoint_at_a_sequence_number_the_shard_does_not_hold_is_reported()
    {
        var input = OneShard();
        var stored = StoredOn(input, Shard0);
        var between = Seq(4);
        Assert.DoesNotContain(stored, r => r.SequenceNumber == between);
        input = WithConsumers(
            input,
            Deliver(input, Member1, 1, 0, 11, at: 1),
            [new CommittedCheckpoint(Member2, Shard0, 1, between, 5, 6), Checkpoint(input, Member1, 1, 7, started: 10, ended: 11)]);

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.CheckpointBackwards, finding.Property);
        Assert.Equal($"{Member2} checkpointed {Shard0} at #{between}, which the shard does not hold", finding.Message);
    }

    // ---- valid requests never refused as invalid ----

    [Fact]
    public void A_refusal_is_reported_as_it_was_recorded()
    {
        const string refusal = "PutRecords refused as invalid at 12.5 s: partition key too long";
        var input = Clean() with { Refusals = [refusal] };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(new Finding(Finding.Refused, refusal), finding);
    }

    [Fact]
    public void A_record_failed_as_invalid_is_reported_refused()
    {
        var input = Clean();
        var refused = new RecordId(1, 500);
        input = input with
        {
            Sent = [.. input.Sent, new SentRecord(refused, "p1-key0", 7)],
            Failed = [new FailedRecord(refused, "InvalidArgumentException", 7.4)],
        };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Refused, finding.Property);
        Assert.Equal($"{refused} was refused as invalid at 7.4 s", finding.Message);
    }

    [Fact]
    public void A_record_failed_for_another_reason_is_not_a_refusal()
    {
        var input = Clean();
        var failed = new RecordId(1, 500);
        input = input with
        {
            Sent = [.. input.Sent, new SentRecord(failed, "p1-key0", 7)],
            Failed = [new FailedRecord(failed, "ProvisionedThroughputExceededException", 7.25), new FailedRecord(failed, "TaskCanceledException", 8)],
        };

        Assert.Empty(HistoryChecker.Check(input).Findings);
    }

    // ---- writes served again within the bound after healing ----

    [Fact]
    public void A_heal_followed_by_no_acknowledgement_on_some_shard_within_the_bound_is_reported()
    {
        // Shard 0 keeps acknowledging until 20 s; shard 1 stops at 5 s. Healed at 6 s, bound 10 s, sending until 20 s.
        var input = Timed(Ticks(0, 20, 0.5), Ticks(0, 5, 0.5)) with
        {
            Faults = [new FaultWindow("isolate 2 from 1,3", 4, 6)],
            RecoveryBound = TimeSpan.FromSeconds(10),
            SendingStoppedAt = 20,
        };

        var report = HistoryChecker.Check(input);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(Finding.Recovery, finding.Property);
        Assert.Equal($"{Shard1} acknowledged no write within 10 s after 'isolate 2 from 1,3' was healed at 6.0 s", finding.Message);
        var recovery = Assert.Single(report.Recoveries);
        Assert.Null(recovery.Seconds);
        Assert.Equal("isolate 2 from 1,3", recovery.Fault.Description);
    }

    [Fact]
    public void A_heal_too_close_to_the_end_of_sending_is_not_judged()
    {
        var input = Timed(Ticks(0, 20, 0.5), Ticks(0, 5, 0.5)) with
        {
            Faults = [new FaultWindow("isolate 2 from 1,3", 4, 6)],
            RecoveryBound = TimeSpan.FromSeconds(10),
            SendingStoppedAt = 15.5,
        };

        var report = HistoryChecker.Check(input);

        Assert.Empty(report.Findings);
        Assert.Empty(report.Recoveries);
    }

    [Fact]
    public void A_heal_whose_bound_ends_exactly_when_sending_stops_is_judged()
    {
        var input = Timed(Ticks(0, 20, 0.5), Ticks(0, 5, 0.5)) with
        {
            Faults = [new FaultWindow("pause 2", 4, 6)],
            RecoveryBound = TimeSpan.FromSeconds(10),
            SendingStoppedAt = 16,
        };

        var finding = Assert.Single(HistoryChecker.Check(input).Findings);

        Assert.Equal(Finding.Recovery, finding.Property);
    }

    [Fact]
    public void Recovery_seconds_are_those_of_the_slowest_shards_first_acknowledgement_after_the_heal()
    {
        // Healed at 10 s: shard 0 acknowledges at 10.0 s, shard 1 only from 12.0 s on.
        var input = Timed(Ticks(0, 20, 0.5), [.. Ticks(0, 5, 0.5), .. Ticks(12, 20, 0.5)]) with
        {
            Faults = [new FaultWindow("crash 3", 5, 10), new FaultWindow("pause 1", 0.2, 0.25)],
        };

        var report = HistoryChecker.Check(input);

        Assert.Empty(report.Findings);
        Assert.Equal(2, report.Recoveries.Count);
        Assert.Equal("pause 1", report.Recoveries[0].Fault.Description);
        Assert.Equal(0.25, report.Recoveries[0].Seconds!.Value, 9);
        Assert.Equal("crash 3", report.Recoveries[1].Fault.Description);
        Assert.Equal(2.0, report.Recoveries[1].Seconds!.Value, 9);
    }

    [Fact]
    public void A_three_second_silence_on_one_shard_is_one_availability_gap_of_three_seconds()
    {
        // Shard 0 acknowledges every second (not a gap); shard 1 every half second but nothing from 3 s to 6 s.
        var input = Timed(Ticks(0, 10, 1), [.. Ticks(0, 3, 0.5), .. Ticks(6, 10, 0.5)]);

        var report = HistoryChecker.Check(input);

        Assert.Empty(report.Findings);
        var gap = Assert.Single(report.Gaps);
        Assert.Equal(Shard1, gap.ShardId);
        Assert.Equal(3.0, gap.Start, 9);
        Assert.Equal(3.0, gap.Seconds, 9);
    }

    [Fact]
    public void Availability_gaps_come_in_order_of_their_start()
    {
        var input = Timed([0, 0.5, 5, 5.5], [0, 2, 2.5, 9]);

        var gaps = HistoryChecker.Check(input).Gaps;

        Assert.Equal(
            [(Shard1, 0.0, 2.0), (Shard0, 0.5, 4.5), (Shard1, 2.5, 6.5)],
            gaps.Select(g => (g.ShardId, g.Start, g.Seconds)));
    }

    // ---- the report stays readable ----

    [Fact]
    public void Findings_of_one_property_beyond_the_cap_are_counted_not_listed()
    {
        var input = WithoutConsumers(Clean(records: 60));
        var stored = StoredOn(input, Shard0);
        const int lost = HistoryChecker.MaxFindingsPerProperty + 5;
        input = Rewrite(input, Shard0, records => [.. records.Skip(lost)]);

        var report = HistoryChecker.Check(input);

        Assert.All(report.Findings, f => Assert.Equal(Finding.Lost, f.Property));
        Assert.Equal(HistoryChecker.MaxFindingsPerProperty + 1, report.Findings.Count);
        var listed = stored.Take(HistoryChecker.MaxFindingsPerProperty).Select(r => $"{r.Id} acknowledged");
        Assert.Equal(listed, report.Findings.Take(HistoryChecker.MaxFindingsPerProperty).Select(f => f.Message[..f.Message.IndexOf(" at ", StringComparison.Ordinal)]));
        Assert.Equal("... and 5 more like these", report.Findings[^1].Message);
    }

    [Fact]
    public void The_cap_counts_each_property_on_its_own()
    {
        var input = WithoutConsumers(Clean(records: 60));
        const int lost = HistoryChecker.MaxFindingsPerProperty + 2;
        input = Rewrite(input, Shard0, records => [.. records.Skip(lost)]);
        input = input with { Refusals = [.. Enumerable.Range(0, HistoryChecker.MaxFindingsPerProperty).Select(i => $"refusal {i}")] };

        var report = HistoryChecker.Check(input);

        Assert.Equal(HistoryChecker.MaxFindingsPerProperty + 1, report.Findings.Count(f => f.Property == Finding.Lost));
        Assert.Equal(HistoryChecker.MaxFindingsPerProperty, report.Findings.Count(f => f.Property == Finding.Refused));
        Assert.Single(report.Findings, f => f.Message.StartsWith("... and", StringComparison.Ordinal));
    }

    // ---- random clean histories ----

    [Fact]
    public void A_random_clean_history_passes_and_each_acknowledged_record_taken_out_of_it_is_reported_lost()
    {
        var gen =
            from shards in Gen.Choose(1, 4)
            from producers in Gen.Choose(1, 3)
            from keysPerProducer in Gen.Choose(1, 3)
            from keyShards in Gen.ArrayOf(Gen.Choose(0, shards - 1), producers * keysPerProducer)
            from count in Gen.Choose(0, 200)
            from picks in Gen.ArrayOf(Gen.Choose(0, (producers * keysPerProducer) - 1), count)
            from seed in Gen.Choose(0, int.MaxValue)
            select new RandomHistory(shards, keysPerProducer, keyShards, picks, seed);

        var config = Config.QuickThrowOnFailure
            .WithMaxTest(200)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(20_240_611UL), FSharpOption<int>.None)));
        Check.One(config, Prop.ForAll(gen.ToArbitrary(), history =>
        {
            var input = history.Build();
            var report = HistoryChecker.Check(input);
            Assert.Empty(report.Findings);
            Assert.Equal(history.Picks.Length, report.Stored);

            foreach (var victim in input.Acked)
            {
                var without = Remove(input, victim);
                var finding = Assert.Single(HistoryChecker.Check(without).Findings);
                Assert.Equal(Finding.Lost, finding.Property);
                Assert.StartsWith($"{victim.Id} acknowledged at", finding.Message, StringComparison.Ordinal);
                Assert.Contains($"{victim.ShardId} #{victim.SequenceNumber} is not stored", finding.Message, StringComparison.Ordinal);
            }
        }));
    }

    // ---- helpers ----

    private static string ShardId(int index) => string.Create(CultureInfo.InvariantCulture, $"shardId-{index:D12}");

    /// <summary>A 26-digit sequence number (the form the cluster hands out); a larger number is later.</summary>
    private static string Seq(long number) => string.Create(CultureInfo.InvariantCulture, $"{number:D20}000000");

    private static double[] Ticks(double from, double to, double step) =>
        [.. Enumerable.Range(0, (int)Math.Round((to - from) / step) + 1).Select(i => from + (i * step))];

    /// <summary>
    /// A clean history: <paramref name="producers"/> producers take turns, each with one key per shard,
    /// each record acknowledged (a quarter second apart) at the next sequence number of its key's shard;
    /// three replicas read alike; member-1 (lease 1) delivers every shard in order and checkpoints every
    /// fourth record; one fault is healed in the middle, with writes on every shard after it.
    /// </summary>
    private static CheckInput Clean(int shards = 2, int producers = 2, int records = 24)
    {
        var plan = Enumerable.Range(0, records).Select(i =>
        {
            var producer = (i % producers) + 1;
            var key = (i / producers) % shards;
            return (Producer: producer, Key: $"p{producer}-key{key}", Shard: key, At: i * 0.25);
        });
        var input = Build(Enumerable.Range(0, shards).Select(ShardId).ToList(), plan);
        var deliveries = input.ShardIds.SelectMany(s => Deliver(input, s, Member1, 1, 0, StoredOn(input, s).Count - 1, at: 100)).ToList();
        var checkpoints = input.ShardIds.SelectMany(s => StoredOn(input, s)
                .Select((r, i) => (r, i))
                .Where(p => p.i % 4 == 3)
                .Select(p => new CommittedCheckpoint(Member1, s, 1, p.r.SequenceNumber, 101 + p.i, 101.5 + p.i)))
            .ToList();
        var end = records * 0.25;
        return WithConsumers(input, deliveries, checkpoints) with
        {
            Faults = [new FaultWindow("isolate 1 from 2,3", end / 3, end / 2)],
            SendingStoppedAt = end,
        };
    }

    /// <summary>One shard of twelve records (one producer, one key), no consumers yet.</summary>
    private static CheckInput OneShard() => WithoutConsumers(Clean(shards: 1, producers: 1, records: 12));

    /// <summary>Two shards acknowledging at the given times, every record its own, no consumers.</summary>
    private static CheckInput Timed(double[] shard0, double[] shard1)
    {
        var plan = shard0.Select(t => (Producer: 1, Key: "p1-key0", Shard: 0, At: t))
            .Concat(shard1.Select(t => (Producer: 2, Key: "p2-key1", Shard: 1, At: t)))
            .OrderBy(p => p.At);
        return Build([Shard0, Shard1], plan);
    }

    /// <summary>
    /// Sends, acknowledges and stores the records in <paramref name="plan"/> order (each acknowledged
    /// at its time, at the next sequence number of its shard, three apart), read alike by three nodes.
    /// </summary>
    private static CheckInput Build(List<string> shardIds, IEnumerable<(int Producer, string Key, int Shard, double At)> plan)
    {
        var numbers = new Dictionary<int, long>();
        var stored = shardIds.Select(_ => new List<StoredRecord>()).ToList();
        var sent = new List<SentRecord>();
        var acked = new List<AckedRecord>();
        foreach (var (producer, key, shard, at) in plan)
        {
            var id = new RecordId(producer, numbers[producer] = numbers.GetValueOrDefault(producer, -1) + 1);
            var sequenceNumber = Seq(3 * (stored[shard].Count + 1));
            sent.Add(new SentRecord(id, key, Math.Max(0, at - 0.1)));
            acked.Add(new AckedRecord(id, shardIds[shard], sequenceNumber, at));
            stored[shard].Add(new StoredRecord(sequenceNumber, id, key));
        }

        return new CheckInput
        {
            Sent = sent,
            Acked = acked,
            ShardIds = shardIds,
            Reads = [.. _nodes.SelectMany(n => shardIds.Select((s, i) => new ShardReplicaRead(n, s, [.. stored[i]])))],
            ExpectDeliveries = false,
        };
    }

    private static IReadOnlyList<StoredRecord> StoredOn(CheckInput input, string shardId) => input.Reads.First(r => r.ShardId == shardId).Records;

    /// <summary>The same change to every node's read of one shard.</summary>
    private static CheckInput Rewrite(CheckInput input, string shardId, Func<IReadOnlyList<StoredRecord>, List<StoredRecord>> change) =>
        input with { Reads = [.. input.Reads.Select(r => r.ShardId == shardId ? r with { Records = change(r.Records) } : r)] };

    private static CheckInput WithoutConsumers(CheckInput input) =>
        input with { Delivered = [], Checkpoints = [], FinalCheckpoints = new Dictionary<string, string>(), ExpectDeliveries = false };

    /// <summary>The given deliveries and checkpoints, the group's final checkpoint per shard the highest acknowledged.</summary>
    private static CheckInput WithConsumers(CheckInput input, IReadOnlyCollection<DeliveredRecord> deliveries, IReadOnlyCollection<CommittedCheckpoint> checkpoints) =>
        input with
        {
            Delivered = deliveries,
            Checkpoints = checkpoints,
            FinalCheckpoints = checkpoints.GroupBy(c => c.ShardId).ToDictionary(g => g.Key, g => g.Select(c => c.SequenceNumber).Aggregate(SequenceNumbers.Max)),
            ExpectDeliveries = true,
        };

    private static DeliveredRecord[] Deliver(CheckInput input, string member, long epoch, int from, int to, double at) =>
        Deliver(input, Shard0, member, epoch, from, to, at);

    /// <summary>Records <paramref name="from"/>..<paramref name="to"/> (by place) of a shard, handed to a member a hundredth of a second apart.</summary>
    private static DeliveredRecord[] Deliver(CheckInput input, string shardId, string member, long epoch, int from, int to, double at) =>
        [.. StoredOn(input, shardId).Skip(from).Take(to - from + 1).Select((r, i) => new DeliveredRecord(member, shardId, epoch, r.SequenceNumber, r.Id!.Value, at + (i * 0.01)))];

    private static CommittedCheckpoint Checkpoint(CheckInput input, string member, long epoch, int index, double started, double ended) =>
        new(member, Shard0, epoch, StoredOn(input, Shard0)[index].SequenceNumber, started, ended);

    /// <summary>The history with one acknowledged record gone from every read, and from what the consumers saw of it.</summary>
    private static CheckInput Remove(CheckInput input, AckedRecord victim) =>
        input with
        {
            Reads = [.. input.Reads.Select(r => r.ShardId == victim.ShardId ? r with { Records = [.. r.Records.Where(s => s.Id != victim.Id)] } : r)],
            Delivered = [.. input.Delivered.Where(d => d.Id != victim.Id)],
            Checkpoints = [.. input.Checkpoints.Where(c => c.ShardId != victim.ShardId || c.SequenceNumber != victim.SequenceNumber)],
        };

    /// <summary>
    /// A random clean history: producer and key of each record in send order (<paramref name="Picks"/>,
    /// producer = pick / keys + 1), each key on one shard; the seed spaces the sends, shuffles the
    /// order the acknowledgements came back in and hands each shard to one lease, then (from a random
    /// place on) to a second, with checkpoints under the first.
    /// </summary>
    internal sealed record RandomHistory(int Shards, int KeysPerProducer, int[] KeyShards, int[] Picks, int Seed)
    {
        public CheckInput Build()
        {
            var random = new Random(Seed);
            var at = 0.0;
            var plan = Picks.Select(pick =>
            {
                at += random.NextDouble() * 0.2;
                var producer = (pick / KeysPerProducer) + 1;
                return (Producer: producer, Key: $"p{producer}-key{pick % KeysPerProducer}", Shard: KeyShards[pick], At: at);
            }).ToList();
            var input = HistoryCheckerTests.Build([.. Enumerable.Range(0, Shards).Select(ShardId)], plan);
            var acked = input.Acked.ToArray();
            random.Shuffle(acked);

            var deliveries = new List<DeliveredRecord>();
            var checkpoints = new List<CommittedCheckpoint>();
            foreach (var shardId in input.ShardIds)
            {
                var count = StoredOn(input, shardId).Count;
                var handover = random.Next(0, count + 1);
                var start = at + 1 + random.NextDouble();
                deliveries.AddRange(Deliver(input, shardId, Member1, 1, 0, handover - 1, start));
                var time = start;
                for (var i = random.Next(1, 5) - 1; i < handover; i += random.Next(1, 5))
                {
                    time += random.NextDouble();
                    checkpoints.Add(new CommittedCheckpoint(Member1, shardId, 1, StoredOn(input, shardId)[i].SequenceNumber, time, time + (random.NextDouble() * 0.5)));
                }

                deliveries.AddRange(Deliver(input, shardId, Member2, 2, handover, count - 1, time + 1));
            }

            return WithConsumers(input with { Acked = acked }, deliveries, checkpoints);
        }
    }
}
