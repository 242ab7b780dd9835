using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using Streams.Raft.Membership;

namespace Streams.Raft.Tests.Membership;

/// <summary>
/// The payload of a configuration entry, which every node decodes from its log to know its
/// membership: it must round-trip exactly, and a damaged payload must fail as a FormatException.
/// </summary>
public sealed class ConfigEntryTests
{
    // Offsets in Sample(): version 0, type 1, node 2..9, voter count 10, voters 14..37,
    // learner count 38, learners 42..49, context length 50, context 54..55.
    private const int VoterCount = 10;
    private const int FirstVoter = 14;
    private const int LearnerCount = 38;
    private const int FirstLearner = 42;
    private const int ContextLength = 50;

    // Small ids collide often (overlap between voters and learners is filtered out); large ones
    // exercise all 8 bytes.
    private static readonly Gen<long> _nodeIds = Gen.Frequency(
        (4, Gen.Choose(1, 12).Select(i => (long)i)),
        (1, ArbMap.Default.GeneratorFor<long>().Where(i => i != 0)));

    private static readonly Gen<ConfigEntry> _entries =
        from type in Gen.Elements(ConfChangeType.AddLearner, ConfChangeType.PromoteLearner, ConfChangeType.RemoveNode)
        from node in Gen.Frequency((4, _nodeIds), (1, ArbMap.Default.GeneratorFor<long>()))
        from members in Gen.ListOf(Gen.Zip(_nodeIds, Gen.Elements(true, false)))
        from context in Gen.Frequency((1, Gen.Constant(Array.Empty<byte>())), (3, Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>())))
        let distinct = members.DistinctBy(m => m.Item1).ToList()
        select new ConfigEntry(
            new ConfChange(type, node, context),
            new ConfState(distinct.Where(m => m.Item2).Select(m => m.Item1), distinct.Where(m => !m.Item2).Select(m => m.Item1)));

    private static readonly Arbitrary<ConfigEntry> _entryArbitrary = _entries.ToArbitrary();

    private static void AssertSame(ConfigEntry expected, ConfigEntry actual)
    {
        Assert.Equal((expected.Change.Type, expected.Change.NodeId), (actual.Change.Type, actual.Change.NodeId));
        Assert.Equal(expected.Change.Context.ToArray(), actual.Change.Context.ToArray());
        Assert.Equal(expected.State, actual.State);
    }

    /// <summary>Voters 1, 2, 3; learner 4; context "ab": every field present, at known offsets.</summary>
    private static byte[] Sample() =>
        new ConfigEntry(ConfChange.AddLearner(4, "ab"u8.ToArray()), new ConfState([1, 2, 3], [4])).Encode();

    [Fact]
    public void Any_change_and_membership_round_trip_through_encode_and_decode() =>
        Prop.ForAll(_entryArbitrary, entry =>
        {
            var decoded = ConfigEntry.Decode(entry.Encode());
            AssertSame(entry, decoded);
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void Every_truncation_of_a_payload_is_a_FormatException() =>
        Prop.ForAll(_entryArbitrary, entry =>
        {
            var bytes = entry.Encode();
            for (var length = 0; length < bytes.Length; length++)
            {
                Assert.Throws<FormatException>(() => ConfigEntry.Decode(bytes.AsSpan(0, length)));
            }
        })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void A_corrupted_payload_either_decodes_to_a_valid_membership_or_is_a_FormatException_never_another_exception() =>
        Prop.ForAll(
            _entryArbitrary,
            Gen.ListOf(Gen.Zip(Gen.Choose(0, int.MaxValue), ArbMap.Default.GeneratorFor<byte>())).ToArbitrary(),
            Gen.Choose(-8, 8).ToArbitrary(),
            (entry, damage, lengthChange) =>
            {
                var bytes = entry.Encode().ToList();
                foreach (var (position, value) in damage)
                {
                    bytes[position % bytes.Count] = value;
                }

                // Also cut or extend the payload, as a torn or misframed write would.
                if (lengthChange < 0)
                {
                    bytes.RemoveRange(Math.Max(0, bytes.Count + lengthChange), Math.Min(bytes.Count, -lengthChange));
                }
                else
                {
                    bytes.AddRange(Enumerable.Repeat((byte)0xAB, lengthChange));
                }

                try
                {
                    var decoded = ConfigEntry.Decode(bytes.ToArray());
                    Assert.DoesNotContain(0L, decoded.State.Members);
                    Assert.Empty(decoded.State.Voters.Intersect(decoded.State.Learners));
                }
                catch (FormatException)
                {
                    // Detected: what the log reader expects.
                }
            })
        .QuickCheckThrowOnFailure();

    [Fact]
    public void The_sample_payload_has_the_documented_layout()
    {
        // Guards the offsets the corruption cases below rely on.
        var bytes = Sample();
        Assert.Equal(56, bytes.Length);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(VoterCount)));
        Assert.Equal(1, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(FirstVoter)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(LearnerCount)));
        Assert.Equal(4, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(FirstLearner)));
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(ContextLength)));
        AssertSame(new ConfigEntry(ConfChange.AddLearner(4, "ab"u8.ToArray()), new ConfState([1, 2, 3], [4])), ConfigEntry.Decode(bytes));
    }

    [Theory]
    [InlineData("unknown version")]
    [InlineData("voter count beyond the payload")]
    [InlineData("negative voter count")]
    [InlineData("learner count beyond the payload")]
    [InlineData("negative context length")]
    [InlineData("context longer than the payload")]
    [InlineData("trailing byte")]
    [InlineData("voter id 0")]
    [InlineData("learner id 0")]
    [InlineData("node both voter and learner")]
    public void A_damaged_field_is_a_FormatException(string damage)
    {
        var bytes = Sample().ToList();
        void WriteInt32(int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(CollectionsMarshal.AsSpan(bytes)[offset..], value);
        void WriteInt64(int offset, long value) => BinaryPrimitives.WriteInt64LittleEndian(CollectionsMarshal.AsSpan(bytes)[offset..], value);
        switch (damage)
        {
            case "unknown version":
                bytes[0] = 2;
                break;
            case "voter count beyond the payload":
                WriteInt32(VoterCount, 1000);
                break;
            case "negative voter count":
                WriteInt32(VoterCount, -1);
                break;
            case "learner count beyond the payload":
                WriteInt32(LearnerCount, int.MaxValue);
                break;
            case "negative context length":
                WriteInt32(ContextLength, -1);
                break;
            case "context longer than the payload":
                WriteInt32(ContextLength, int.MaxValue);
                break;
            case "trailing byte":
                bytes.Add(0);
                break;
            case "voter id 0":
                WriteInt64(FirstVoter, 0);
                break;
            case "learner id 0":
                WriteInt64(FirstLearner, 0);
                break;
            case "node both voter and learner":
                WriteInt64(FirstLearner, 2);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, null);
        }

        Assert.Throws<FormatException>(() => ConfigEntry.Decode(bytes.ToArray()));
    }

    [Fact]
    public void A_membership_with_a_node_that_is_both_voter_and_learner_is_refused_naming_the_node()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ConfState([1, 2, 3], [3, 4]));
        Assert.Contains("3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("both voter and learner", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_membership_naming_node_0_is_refused()
    {
        Assert.Contains("0", Assert.Throws<ArgumentException>(() => new ConfState([0, 1])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ConfState([1], [0]));
    }

    [Fact]
    public void A_membership_is_kept_sorted_and_without_duplicates_so_equal_sets_are_equal()
    {
        var state = new ConfState([3, 1, 3, 2], [9, 7, 9]);

        Assert.Equal([1L, 2L, 3L], state.Voters);
        Assert.Equal([7L, 9L], state.Learners);
        Assert.Equal(new ConfState([1, 2, 3], [7, 9]), state);
        Assert.Equal(new ConfState([1, 2, 3], [7, 9]).GetHashCode(), state.GetHashCode());
        Assert.NotEqual(new ConfState([1, 2, 3, 7], [9]), state);
        Assert.Equal(2, state.Quorum);
    }
}
