using Streams.Raft.Storage;
using Streams.Raft.Tests.Support;

namespace Streams.Raft.Tests.Storage;

public sealed class MemoryRaftLogTests
{
    [Fact]
    public void Entries_is_the_half_open_range_lo_to_hi()
    {
        var log = Logs.WithTerms(1, 1, 1, 2, 2);

        Assert.Equal([2L, 3L], log.Entries(2, 4, long.MaxValue).Select(e => e.Index));
        Assert.Empty(log.Entries(3, 3, long.MaxValue));
        Assert.Equal([1L, 2L, 3L, 4L], log.Entries(1, 5, long.MaxValue).Select(e => e.Index));
    }

    [Fact]
    public void Entries_stops_at_max_bytes_but_returns_at_least_one()
    {
        var log = Logs.WithTerms(1, 1, 1, 1);
        var one = log.Entries(1, 2, long.MaxValue)[0].SizeBytes;

        Assert.Single(log.Entries(1, 4, 1));
        Assert.Equal(2, log.Entries(1, 4, (2 * one) + 1).Count);
    }

    [Fact]
    public void Reads_outside_the_log_fail_with_a_named_error()
    {
        var log = Logs.WithTerms(1, 1, 1);

        Assert.Equal(RaftLogError.Compacted, Assert.Throws<RaftLogException>(() => log.Entries(0, 1, 10)).Error);
        Assert.Equal(RaftLogError.Unavailable, Assert.Throws<RaftLogException>(() => log.Entries(1, 4, 10)).Error);
        Assert.Equal(RaftLogError.Unavailable, Assert.Throws<RaftLogException>(() => log.Term(3)).Error);
        Assert.Equal(0, log.Term(0));
    }

    [Fact]
    public void Append_replaces_the_suffix_from_the_first_new_index_and_refuses_gaps()
    {
        var log = Logs.WithTerms(1, 1, 1, 1);

        log.Append([TestCluster.E(2, 2)]);

        Assert.Equal(2, log.LastIndex);
        Assert.Equal(2, log.Term(2));
        Assert.Throws<ArgumentException>(() => log.Append([TestCluster.E(2, 4)]));
    }
}
