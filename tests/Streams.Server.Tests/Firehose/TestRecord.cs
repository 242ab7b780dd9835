using System.Globalization;
using Streams.Server.Firehose.Output;

namespace Streams.Server.Tests.Firehose;

/// <summary>A record as a delivery worker hands it to <see cref="DeliveryObjectBuilder"/>.</summary>
public sealed record TestRecord(string SequenceNumber, string PartitionKey, DateTimeOffset Arrival, byte[] Data)
{
    /// <summary>The arrival time as JSON lines write it: UTC, milliseconds.</summary>
    public string ArrivalText => Arrival.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public void AppendTo(DeliveryObjectBuilder builder) => builder.Append(SequenceNumber, PartitionKey, Arrival, Data);

    public override string ToString() => $"{SequenceNumber} key={PartitionKey} data={Convert.ToHexString(Data)}";
}
