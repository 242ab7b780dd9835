using Streams.Server.Shards.Log;

namespace Streams.Server.Tests.Shards.Log;

/// <summary>The in-memory term map: runs of equal terms, truncated at the end and dropped at the front.</summary>
public sealed class TermRunsTests
{
    [Fact]
    public void A_million_entries_of_three_terms_take_three_runs()
    {
        var terms = new TermRuns(1);
        for (var i = 1; i <= 1_000_000; i++)
        {
            terms.Append(i, i <= 10 ? 1 : i <= 500_000 ? 4 : 9);
        }

        Assert.Equal(3, terms.RunCount);
        Assert.Equal(1, terms.Term(1));
        Assert.Equal(1, terms.Term(10));
        Assert.Equal(4, terms.Term(11));
        Assert.Equal(4, terms.Term(500_000));
        Assert.Equal(9, terms.Term(500_001));
        Assert.Equal(9, terms.Term(1_000_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => terms.Term(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => terms.Term(1_000_001));
    }

    [Fact]
    public void Truncation_removes_whole_runs_after_the_index_and_appending_goes_on_from_there()
    {
        var terms = new TermRuns(5);
        Fill(terms, 5, 20, 2);
        Fill(terms, 21, 30, 3);
        terms.TruncateAfter(25);
        Assert.Equal(25, terms.LastIndex);
        Assert.Equal(3, terms.Term(25));

        terms.TruncateAfter(20);
        Assert.Equal(1, terms.RunCount);
        terms.Append(21, 7);
        Assert.Equal(7, terms.Term(21));
        Assert.Equal(2, terms.Term(20));

        terms.TruncateAfter(4);
        Assert.Equal(0, terms.RunCount);
        Assert.Equal(4, terms.LastIndex);
        terms.Append(5, 8);
        Assert.Equal(8, terms.Term(5));
        Assert.Throws<InvalidOperationException>(() => terms.Append(7, 8));
    }

    [Fact]
    public void Dropping_a_prefix_keeps_the_terms_after_it()
    {
        var terms = new TermRuns(1);
        Fill(terms, 1, 10, 1);
        Fill(terms, 11, 20, 2);
        Fill(terms, 21, 30, 3);

        terms.DropThrough(0);
        Assert.Equal(1, terms.FirstIndex);
        terms.DropThrough(15);
        Assert.Equal(16, terms.FirstIndex);
        Assert.Equal(2, terms.RunCount);
        Assert.Equal(2, terms.Term(16));
        Assert.Equal(3, terms.Term(21));
        Assert.Throws<ArgumentOutOfRangeException>(() => terms.Term(15));

        terms.DropThrough(20);
        Assert.Equal(1, terms.RunCount);
        Assert.Equal(3, terms.Term(21));

        terms.DropThrough(30);
        Assert.Equal(31, terms.FirstIndex);
        Assert.Equal(30, terms.LastIndex);
        terms.Append(31, 4);
        Assert.Equal(4, terms.Term(31));
    }

    private static void Fill(TermRuns terms, long from, long to, long term)
    {
        for (var i = from; i <= to; i++)
        {
            terms.Append(i, term);
        }
    }
}
