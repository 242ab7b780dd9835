using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests.Firehose;

/// <summary>
/// The checker the Firehose cluster tests rely on, on made-up objects (no processes): it passes a
/// correct delivery and names each way a delivery can go wrong, so a passing cluster test means
/// something.
/// </summary>
public sealed class DeliveredObjectsTests
{
    private const string Shard = "shardId-000000000001";
    private static readonly DateTime _arrival = new(2026, 11, 21, 18, 59, 59, DateTimeKind.Utc);

    // Six records of one shard; the second three arrive in the next hour.
    private static readonly Record[] _records = [.. Enumerable.Range(0, 6).Select(i => new Record
    {
        SequenceNumber = Sequence(i),
        Data = ByteString.CopyFrom(Data(i)),
        PartitionKey = "k",
        ApproximateArrivalTimestamp = Timestamp.FromDateTime(_arrival.AddSeconds(i < 3 ? 0 : 1)),
    })];

    private static readonly FedRecord[] _acked = [.. Enumerable.Range(0, 6).Select(i => new FedRecord(i, Data(i), Shard, Sequence(i)))];

    public static TheoryData<string, string> Faults => new()
    {
        { "gap", "are in no object" },
        { "overlap", "overlap" },
        { "reordered", "is not shardId-000000000001's record" },
        { "changed byte", "is not shardId-000000000001's record" },
        { "wrong hour", "dated 2026/11/21/18, but its first record arrived" },
        { "wrong last sequence", "not the key's last sequence number" },
        { "unacknowledged extra", "never acknowledged" },
        { "acknowledged elsewhere", "was acknowledged at" },
        { "put otherwise", "differ from the" },
    };

    [Fact]
    public void Consecutive_objects_holding_every_record_once_pass()
    {
        Assert.Empty(Check(Objects(), _acked));
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public void Each_fault_is_named(string fault, string expected)
    {
        var objects = Objects();
        var acked = _acked.ToList();
        switch (fault)
        {
            case "gap":
                objects.RemoveAt(1);
                break;
            case "overlap":
                objects[1] = Object(2, 5);
                break;
            case "reordered":
                objects[0] = objects[0] with { Records = [Data(1), Data(0), Data(2)] };
                break;
            case "changed byte":
                var changed = Data(4);
                changed[^1] ^= 1;
                objects[1] = objects[1] with { Records = [Data(3), changed, Data(5)] };
                break;
            case "wrong hour":
                objects[1] = objects[1] with { Hour = _arrival.Date.AddHours(_arrival.Hour) };
                break;
            case "wrong last sequence":
                objects[0] = objects[0] with { LastSequence = Sequence(1) };
                break;
            case "unacknowledged extra":
                acked.RemoveAt(5);
                break;
            case "acknowledged elsewhere":
                acked[2] = acked[2] with { SequenceNumber = Sequence(3) };
                break;
            case "put otherwise":
                acked[2] = acked[2] with { Data = [.. Data(2), (byte)'x'] };
                break;
        }

        var problems = Check(objects, acked);
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    private static List<string> Check(List<DeliveredObject> objects, IReadOnlyCollection<FedRecord> acked) =>
        DeliveredObjects.Of("p/", "d", gzip: false, objects).Verify(new Dictionary<string, IReadOnlyList<Record>> { [Shard] = _records }, acked);

    private static List<DeliveredObject> Objects() => [Object(0, 2), Object(3, 5)];

    private static DeliveredObject Object(int first, int last)
    {
        var hour = _records[first].ApproximateArrivalTimestamp.ToDateTime();
        return new DeliveredObject($"p/{hour:yyyy/MM/dd/HH}/d-{Shard}-{Sequence(first)}-{Sequence(last)}", 1, hour.Date.AddHours(hour.Hour), Shard, Sequence(first), Sequence(last), [.. Enumerable.Range(first, last - first + 1).Select(Data)]);
    }

    private static string Sequence(int i) => (49_000_000_000_000_000_000_000_000m + i).ToString(CultureInfo.InvariantCulture);

    private static byte[] Data(int id) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id={id:D7};{new string((char)('a' + id), 5 + id)}"));
}
