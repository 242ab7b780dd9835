using Streams.Raft.Core;
using Streams.Raft.Messages;
using Streams.Raft.Tests.Support;
using Streams.Raft.Tracker;

namespace Streams.Raft.Tests.Core;

/// <summary>Per-follower progress: probe, replicate, the in-flight window and batching.</summary>
public sealed class FlowControlTests
{
    private static TestCluster Cluster(int inflight, int batch) => new(3, configure: (id, c) => new RaftConfig
    {
        Id = c.Id,
        Voters = c.Voters,
        RandomSource = c.RandomSource,
        MaxInflightMessages = inflight,
        MaxEntriesPerMessage = batch,
    });

    [Fact]
    public void In_probe_state_at_most_one_append_is_in_flight()
    {
        var cluster = Cluster(inflight: 8, batch: 8);
        cluster.Tick(1, 10);
        cluster.DeliverAll(m => m.Type == MessageType.Append);
        cluster.Take();
        Assert.Equal(ProgressState.Probe, cluster[1].ProgressOf(2)!.State);

        for (var i = 0; i < 5; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        Assert.Empty(cluster.Take(m => m.Type == MessageType.Append && m.To == 2));
    }

    [Fact]
    public void In_replicate_state_the_leader_stops_at_the_inflight_limit_and_then_sends_batches()
    {
        var cluster = Cluster(inflight: 2, batch: 3);
        cluster.Elect(1);
        Assert.Equal(ProgressState.Replicate, cluster[1].ProgressOf(2)!.State);

        for (var i = 0; i < 20; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        var toTwo = cluster.Outbox.Where(m => m.Type == MessageType.Append && m.To == 2).ToList();
        Assert.Equal(2, toTwo.Count);
        Assert.True(cluster[1].ProgressOf(2)!.IsPaused);

        var sent = new List<Message>();
        cluster.DeliverAll(m =>
        {
            sent.Add(m);
            return false;
        });

        var appends = sent.Where(m => m.Type == MessageType.Append && m.To == 2).ToList();
        Assert.All(appends, m => Assert.InRange(m.Entries.Count, 0, 3));
        Assert.Contains(appends, m => m.Entries.Count == 3);
        Assert.Equal(cluster[1].LastIndex, cluster[2].LastIndex);
        Assert.Equal(cluster[1].LastIndex, cluster[1].CommitIndex);
    }

    [Fact]
    public void A_rejection_in_replicate_state_falls_back_to_probe()
    {
        var cluster = Cluster(inflight: 4, batch: 4);
        cluster.Elect(1);
        var progress = cluster[1].ProgressOf(2)!;
        cluster.Propose(1, "x");
        cluster.Take();

        cluster.Deliver(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 1, Index = 2, Reject = true, RejectHint = 1, LogTerm = 1 });

        Assert.Equal(ProgressState.Probe, progress.State);
        Assert.Equal(2, progress.Next);
    }
}
