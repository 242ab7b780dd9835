using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Record = Streams.V1.Record;

namespace Streams.Cluster.Tests.Firehose;

/// <summary>One object of the bucket as read back: its key's parts and the records it holds.</summary>
/// <param name="Key">The key.</param>
/// <param name="Size">Its size as listed (after compression).</param>
/// <param name="Hour">The UTC hour its key's date folders name.</param>
/// <param name="ShardId">The shard its key names.</param>
/// <param name="FirstSequence">The first sequence number its key names.</param>
/// <param name="LastSequence">The last sequence number its key names.</param>
/// <param name="Records">Its records' data, in object order (raw, split at each newline).</param>
internal sealed record DeliveredObject(string Key, long Size, DateTime Hour, string ShardId, string FirstSequence, string LastSequence, IReadOnlyList<byte[]> Records);

/// <summary>
/// Everything in the bucket, read back with clients nobody here wrote: the AWS CLI lists it,
/// boto3 lists it and reads every object (sha256), and the bytes compared record by record are
/// s3rver's stored copy, taken only when its sha256 is what boto3 read (one object is also fetched
/// whole with the AWS CLI and compared byte for byte). <see cref="Verify"/> then checks the
/// delivery promise against the stream's own records (GetRecords) and the producer's acknowledgements.
/// </summary>
internal sealed class DeliveredObjects
{
    private readonly string _prefix;
    private readonly string _deliveryName;
    private readonly bool _gzip;

    private DeliveredObjects(string prefix, string deliveryName, bool gzip, List<DeliveredObject> objects, List<string> problems)
    {
        _prefix = prefix;
        _deliveryName = deliveryName;
        _gzip = gzip;
        Objects = objects;
        Problems = problems;
    }

    /// <summary>The objects whose keys parse, in key order.</summary>
    public IReadOnlyList<DeliveredObject> Objects { get; }

    /// <summary>What was wrong while reading (keys that do not parse, listings that disagree, bytes that differ).</summary>
    public List<string> Problems { get; }

    public long TotalBytes => Objects.Sum(o => o.Size);

    /// <summary>Objects read some other way (the checker's own tests make them up).</summary>
    public static DeliveredObjects Of(string prefix, string deliveryName, bool gzip, IEnumerable<DeliveredObject> objects) =>
        new(prefix, deliveryName, gzip, [.. objects.OrderBy(o => o.Key, StringComparer.Ordinal)], []);

    /// <summary>Lists and reads the whole bucket.</summary>
    /// <param name="cluster">The s3rver and the read-back clients.</param>
    /// <param name="prefix">The delivery stream's prefix, ending with "/".</param>
    /// <param name="deliveryName">The delivery stream's name.</param>
    /// <param name="gzip">Objects are gzip (keys end with .gz).</param>
    public static async Task<DeliveredObjects> ReadAsync(FirehoseCluster cluster, string prefix, string deliveryName, bool gzip)
    {
        var problems = new List<string>();
        var bucket = FirehoseCluster.Bucket;
        var listed = await cluster.ReadBack.ListWithAwsCliAsync(bucket, "");
        var digests = await cluster.ReadBack.ReadWithBoto3Async(bucket, "");
        var byBoto = digests.ToDictionary(d => d.Key, StringComparer.Ordinal);
        if (!listed.Select(l => (l.Key, l.Size)).SequenceEqual(digests.Select(d => (d.Key, d.Size))))
        {
            problems.Add($"the AWS CLI and boto3 list different objects: aws [{string.Join(", ", listed.Select(l => $"{l.Key} {l.Size}"))}], boto3 [{string.Join(", ", digests.Select(d => $"{d.Key} {d.Size}"))}]");
        }

        var pattern = new Regex(
            "^" + Regex.Escape(prefix) + @"(?<y>\d{4})/(?<M>\d{2})/(?<d>\d{2})/(?<H>\d{2})/" + Regex.Escape(deliveryName)
            + @"-(?<shard>shardId-\d{12})-(?<first>\d+)-(?<last>\d+)" + (gzip ? @"\.gz" : "") + "$",
            RegexOptions.CultureInvariant);
        var objects = new List<DeliveredObject>();
        foreach (var item in listed)
        {
            var match = pattern.Match(item.Key);
            if (!match.Success)
            {
                problems.Add($"{item.Key}: not a key of the form {prefix}yyyy/MM/dd/HH/{deliveryName}-<shard>-<first>-<last>{(gzip ? ".gz" : "")}");
                continue;
            }

            var bytes = await StoredBytesAsync(cluster, bucket, item.Key);
            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!byBoto.TryGetValue(item.Key, out var digest) || digest.Sha256 != sha || digest.ReadBytes != bytes.Length || item.Size != bytes.Length)
            {
                problems.Add($"{item.Key}: the stored {bytes.Length} bytes (sha256 {sha}) are not what was listed ({item.Size} bytes) and read by boto3 ({digest?.ReadBytes} bytes, sha256 {digest?.Sha256})");
                continue;
            }

            var content = bytes;
            if (gzip)
            {
                if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b)
                {
                    problems.Add($"{item.Key}: ends with .gz but is not gzip ({bytes.Length} bytes)");
                    continue;
                }

                content = Gunzip(bytes);
            }

            var hour = new DateTime(
                Int(match, "y"), Int(match, "M"), Int(match, "d"), Int(match, "H"), 0, 0, DateTimeKind.Utc);
            objects.Add(new DeliveredObject(item.Key, item.Size, hour, match.Groups["shard"].Value, match.Groups["first"].Value, match.Groups["last"].Value, Split(content, item.Key, problems)));
        }

        // One object whole through the AWS CLI as well: the bytes, not only their digest.
        if (listed.Count > 0)
        {
            var key = listed[listed.Count / 2].Key;
            var viaCli = await cluster.ReadBack.GetWithAwsCliAsync(bucket, key);
            var stored = await StoredBytesAsync(cluster, bucket, key);
            if (!viaCli.AsSpan().SequenceEqual(stored))
            {
                problems.Add($"{key}: aws s3 cp returned {viaCli.Length} bytes that differ from the stored object");
            }
        }

        return new DeliveredObjects(prefix, deliveryName, gzip, objects, problems);
    }

    /// <summary>
    /// Every problem with the delivery: an object that is not a run of consecutive records of its
    /// shard exactly as GetRecords returns them (bytes, order, first and last sequence number), an
    /// object dated by another hour than its first record's arrival, shards whose objects leave a
    /// gap or overlap, a stream record in no object or in two, an acknowledged record not delivered
    /// once where it was acknowledged. Empty when all is well.
    /// </summary>
    /// <param name="stream">Each shard's records from TRIM_HORIZON, as GetRecords returned them.</param>
    /// <param name="acked">The records the producer had acknowledged.</param>
    public List<string> Verify(IReadOnlyDictionary<string, IReadOnlyList<Record>> stream, IReadOnlyCollection<FedRecord> acked)
    {
        var problems = new List<string>(Problems);
        var delivered = new Dictionary<int, List<(string Key, string ShardId, string Sequence, byte[] Data)>>();
        foreach (var (shardId, records) in stream)
        {
            var objects = Objects.Where(o => o.ShardId == shardId).OrderBy(o => o.FirstSequence.Length).ThenBy(o => o.FirstSequence, StringComparer.Ordinal).ToList();
            var at = 0;
            foreach (var item in objects)
            {
                if (at >= records.Count)
                {
                    problems.Add($"{item.Key}: {shardId} has only {records.Count} records, all in earlier objects");
                    continue;
                }

                if (item.FirstSequence != records[at].SequenceNumber)
                {
                    var index = IndexOf(records, item.FirstSequence);
                    problems.Add(index < 0
                        ? $"{item.Key}: its first sequence number is no record of {shardId}"
                        : index < at
                            ? $"{item.Key}: starts at record {index} of {shardId}, which an earlier object holds already (overlap)"
                            : $"{item.Key}: starts at record {index} of {shardId}, but records {at}..{index - 1} (from {records[at].SequenceNumber}) are in no object (gap)");
                    if (index < 0)
                    {
                        continue;
                    }

                    at = index;
                }

                var count = item.Records.Count;
                var last = at + count - 1;
                if (count == 0 || last >= records.Count || records[last].SequenceNumber != item.LastSequence)
                {
                    problems.Add($"{item.Key}: holds {count} records, but record {last} of {shardId} is {(last >= 0 && last < records.Count ? records[last].SequenceNumber : "beyond the shard")}, not the key's last sequence number");
                }

                var arrival = records[at].ApproximateArrivalTimestamp.ToDateTime();
                var hour = new DateTime(arrival.Year, arrival.Month, arrival.Day, arrival.Hour, 0, 0, DateTimeKind.Utc);
                if (hour != item.Hour)
                {
                    problems.Add($"{item.Key}: dated {item.Hour:yyyy/MM/dd/HH}, but its first record arrived at {arrival:O}");
                }

                for (var i = 0; i < count && at + i < records.Count; i++)
                {
                    var record = records[at + i];
                    if (!record.Data.Span.SequenceEqual(item.Records[i]))
                    {
                        problems.Add($"{item.Key}: record {i} ({RecordFeed.IdOf(item.Records[i])}, {item.Records[i].Length} bytes) is not {shardId}'s record {record.SequenceNumber} (id {RecordFeed.IdOf(record.Data.Span)}, {record.Data.Length} bytes)");
                        break;
                    }

                    var id = RecordFeed.IdOf(item.Records[i]);
                    if (!delivered.TryGetValue(id, out var places))
                    {
                        delivered[id] = places = [];
                    }

                    places.Add((item.Key, shardId, record.SequenceNumber, item.Records[i]));
                }

                at += count;
            }

            if (at < records.Count)
            {
                problems.Add($"{shardId}: records {at}..{records.Count - 1} (from {records[at].SequenceNumber}) are in no object");
            }
        }

        foreach (var item in Objects.Where(o => !stream.ContainsKey(o.ShardId)))
        {
            problems.Add($"{item.Key}: names {item.ShardId}, which the stream does not have");
        }

        foreach (var record in acked)
        {
            if (!delivered.TryGetValue(record.Id, out var places))
            {
                problems.Add($"record {record.Id} (acknowledged at {record.ShardId} {record.SequenceNumber}) is in no object");
            }
            else if (places.Count != 1)
            {
                problems.Add($"record {record.Id} is in {places.Count} places: {string.Join(", ", places.Select(p => p.Key))}");
            }
            else if (places[0].ShardId != record.ShardId || places[0].Sequence != record.SequenceNumber)
            {
                problems.Add($"record {record.Id} was acknowledged at {record.ShardId} {record.SequenceNumber} but delivered as {places[0].ShardId} {places[0].Sequence}");
            }
            else if (!places[0].Data.AsSpan().SequenceEqual(record.Data))
            {
                problems.Add($"record {record.Id} was delivered ({places[0].Key}) as {places[0].Data.Length} bytes that differ from the {record.Data.Length} put");
            }
        }

        var ackedIds = acked.Select(a => a.Id).ToHashSet();
        foreach (var (id, places) in delivered.Where(d => !ackedIds.Contains(d.Key)))
        {
            problems.Add($"record {id} was delivered ({places[0].Key}) but never acknowledged");
        }

        return problems;
    }

    /// <summary>One line about the objects: how many, per shard, bytes.</summary>
    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture, $"{Objects.Count} objects ({TotalBytes:N0} bytes{(_gzip ? ", gzip" : "")}) under {_prefix} for {_deliveryName}: ")
        + string.Join(", ", Objects.GroupBy(o => o.ShardId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()} objects {g.Sum(o => o.Records.Count)} records"));

    // s3rver keeps an object's bytes in <dir>/<bucket>/<key folders>/<name>._S3rver_object; when
    // that ever changes, the AWS CLI fetches it instead.
    private static async Task<byte[]> StoredBytesAsync(FirehoseCluster cluster, string bucket, string key)
    {
        var parts = key.Split('/');
        var path = Path.Combine([cluster.S3.DataDirectory, bucket, .. parts[..^1], parts[^1] + "._S3rver_object"]);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path) : await cluster.ReadBack.GetWithAwsCliAsync(bucket, key);
    }

    private static int Int(Match match, string group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    private static int IndexOf(IReadOnlyList<Record> records, string sequence)
    {
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].SequenceNumber == sequence)
            {
                return i;
            }
        }

        return -1;
    }

    private static byte[] Gunzip(byte[] bytes)
    {
        using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    // Raw records, each followed by "\n" (the default delimiter; the test data holds none).
    private static List<byte[]> Split(byte[] content, string key, List<string> problems)
    {
        var records = new List<byte[]>();
        var rest = content.AsSpan();
        while (!rest.IsEmpty)
        {
            var at = rest.IndexOf((byte)'\n');
            if (at < 0)
            {
                problems.Add($"{key}: does not end with a newline ({rest.Length} bytes after the last one)");
                break;
            }

            records.Add(rest[..at].ToArray());
            rest = rest[(at + 1)..];
        }

        return records;
    }
}
