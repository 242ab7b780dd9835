namespace Streams.Faults.Checking;

/// <summary>Orders the decimal sequence numbers of one shard: by length, then digit by digit.</summary>
internal static class SequenceNumbers
{
    public static int Compare(string left, string right)
    {
        var byLength = left.Length.CompareTo(right.Length);
        return byLength != 0 ? byLength : string.CompareOrdinal(left, right);
    }

    public static string Max(string left, string right) => Compare(left, right) >= 0 ? left : right;
}
