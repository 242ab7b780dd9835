using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Streams.Server.Firehose.Output;

namespace Streams.Server.Tests.Firehose;

/// <summary>Reads delivery objects back the way a consumer of the bucket would.</summary>
internal static class ObjectReading
{
    public static byte[] Build(ObjectFormat format, IEnumerable<TestRecord> records)
    {
        using var builder = new DeliveryObjectBuilder(format);
        foreach (var record in records)
        {
            record.AppendTo(builder);
        }

        return builder.Finish().Bytes.ToArray();
    }

    public static byte[] Gunzip(byte[] bytes)
    {
        using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Splits at each delimiter, left to right: the pieces before each one (the object must end with one).</summary>
    public static List<byte[]> SplitRaw(byte[] bytes, byte[] delimiter)
    {
        var pieces = new List<byte[]>();
        var rest = bytes.AsSpan();
        while (!rest.IsEmpty)
        {
            var at = rest.IndexOf(delimiter);
            Assert.True(at >= 0, $"the object does not end with the delimiter: {Convert.ToHexString(rest)}");
            pieces.Add(rest[..at].ToArray());
            rest = rest[(at + delimiter.Length)..];
        }

        return pieces;
    }

    /// <summary>The object's JSON lines, each parsed (every line must end with "\n").</summary>
    public static List<JsonElement> JsonLines(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "the last JSON line does not end with a newline");
        return text.Split('\n')[..^1].Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    public static void AssertLineIs(TestRecord expected, JsonElement line)
    {
        Assert.Equal(expected.SequenceNumber, line.GetProperty("sequence_number").GetString());
        Assert.Equal(expected.PartitionKey, line.GetProperty("partition_key").GetString());
        Assert.Equal(expected.ArrivalText, line.GetProperty("approximate_arrival_timestamp").GetString());
        Assert.Equal(expected.Data, line.GetProperty("data").GetBytesFromBase64());
    }
}
