namespace Streams.Raft.Membership;

/// <summary>
/// A group's membership: the voters, whose majority decides elections and commitment, and the
/// learners, which receive the log but neither vote nor count towards a majority. A node is in
/// at most one of the two lists. Both are kept sorted.
/// </summary>
public sealed class ConfState : IEquatable<ConfState>
{
    /// <summary>Creates a membership; the lists are copied and sorted.</summary>
    /// <param name="voters">The voting members.</param>
    /// <param name="learners">The non-voting members; none of them a voter.</param>
    public ConfState(IEnumerable<long> voters, IEnumerable<long>? learners = null)
    {
        ArgumentNullException.ThrowIfNull(voters);
        var v = voters.Distinct().Order().ToArray();
        var l = (learners ?? []).Distinct().Order().ToArray();
        if (v.Contains(0) || l.Contains(0))
        {
            throw new ArgumentException("Node id 0 means \"none\" and cannot be a member.", nameof(voters));
        }

        if (v.Intersect(l).Any())
        {
            throw new ArgumentException($"Nodes {string.Join(", ", v.Intersect(l))} cannot be both voter and learner.", nameof(learners));
        }

        Voters = v;
        Learners = l;
    }

    /// <summary>The membership with no members (a node that has not joined a group yet).</summary>
    public static ConfState Empty { get; } = new([]);

    /// <summary>The voting members, sorted.</summary>
    public IReadOnlyList<long> Voters { get; }

    /// <summary>The non-voting members, sorted.</summary>
    public IReadOnlyList<long> Learners { get; }

    /// <summary>A majority of the voters.</summary>
    public int Quorum => (Voters.Count / 2) + 1;

    /// <summary>True when <paramref name="id"/> is a voter.</summary>
    /// <param name="id">A node id.</param>
    public bool IsVoter(long id) => Contains(Voters, id);

    /// <summary>True when <paramref name="id"/> is a learner.</summary>
    /// <param name="id">A node id.</param>
    public bool IsLearner(long id) => Contains(Learners, id);

    /// <summary>True when <paramref name="id"/> is a voter or a learner.</summary>
    /// <param name="id">A node id.</param>
    public bool IsMember(long id) => IsVoter(id) || IsLearner(id);

    /// <summary>Every member, voters first.</summary>
    public IEnumerable<long> Members => Voters.Concat(Learners);

    /// <inheritdoc/>
    public bool Equals(ConfState? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ConfState);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var id in Voters)
        {
            hash.Add(id);
        }

        hash.Add(-1L);
        foreach (var id in Learners)
        {
            hash.Add(id);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        Learners.Count == 0 ? $"voters [{string.Join(',', Voters)}]" : $"voters [{string.Join(',', Voters)}] learners [{string.Join(',', Learners)}]";

    private static bool Contains(IReadOnlyList<long> sorted, long id)
    {
        var lo = 0;
        var hi = sorted.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid] == id)
            {
                return true;
            }

            if (sorted[mid] < id)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return false;
    }
}
