using Streams.Client.Routing;
using Streams.Server.Configuration;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// The checks of a write (PutRecord, PutRecords, a Produce batch) against the limits, done before
/// anything is written, each failure naming the field and the limit; and the records' hash keys.
/// </summary>
internal static class PutRequestRules
{
    /// <summary>
    /// Checks the records and the producer fields; returns each record's hash key (explicit, or the
    /// MD5 of its partition key) and whether it was explicit.
    /// </summary>
    /// <exception cref="StreamsApiException">INVALID_ARGUMENT naming the field and the limit.</exception>
    public static (UInt128 Key, bool Explicit)[] Check(IReadOnlyList<PutRecordsRequestEntry> records, ulong producerId, long producerSequence, LimitsOptions limits, bool single)
    {
        if (records.Count == 0)
        {
            throw StreamsApiException.InvalidArgument("records is empty; send 1 to " + limits.MaxRecordsPerPut + " records.");
        }

        if (records.Count > limits.MaxRecordsPerPut)
        {
            throw StreamsApiException.InvalidArgument($"records has {records.Count} records; the limit is {limits.MaxRecordsPerPut} per request: split them into several requests.");
        }

        if (producerId > long.MaxValue)
        {
            throw StreamsApiException.InvalidArgument($"producer_id is {producerId}; use 1 to {long.MaxValue} (0 for no idempotent producer).");
        }

        if (producerId != 0 && producerSequence is < 0 or > int.MaxValue)
        {
            throw StreamsApiException.InvalidArgument($"producer_sequence is {producerSequence}; use 0 to {int.MaxValue}, counting the producer's batches to a shard from 0.");
        }

        if (producerId == 0 && producerSequence != 0)
        {
            throw StreamsApiException.InvalidArgument("producer_sequence is set but producer_id is 0; set producer_id too, or leave both unset.");
        }

        var keys = new (UInt128, bool)[records.Count];
        long total = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var field = single ? "" : $"records[{i}].";
            if (record.Data.Length > limits.MaxRecordBytes)
            {
                throw StreamsApiException.InvalidArgument($"{field}data has {record.Data.Length} bytes; the limit is {limits.MaxRecordBytes} bytes per record.");
            }

            if (record.PartitionKey.Length == 0)
            {
                throw StreamsApiException.InvalidArgument($"{field}partition_key is empty; give every record a partition key of 1 to {limits.MaxPartitionKeyLength} characters.");
            }

            if (record.PartitionKey.Length > limits.MaxPartitionKeyLength)
            {
                throw StreamsApiException.InvalidArgument($"{field}partition_key has {record.PartitionKey.Length} characters; the limit is {limits.MaxPartitionKeyLength}.");
            }

            total += record.Data.Length + System.Text.Encoding.UTF8.GetByteCount(record.PartitionKey);
            if (record.ExplicitHashKey.Length > 0)
            {
                if (!HashKey.TryParse(record.ExplicitHashKey, out var key))
                {
                    throw StreamsApiException.InvalidArgument(HashKey.ParseError($"{field}explicit_hash_key", record.ExplicitHashKey));
                }

                keys[i] = (key, true);
            }
            else
            {
                keys[i] = (HashKey.FromPartitionKey(record.PartitionKey), false);
            }
        }

        if (total > limits.MaxBytesPerPut)
        {
            throw StreamsApiException.InvalidArgument($"records hold {total} bytes of data and partition keys; the limit is {limits.MaxBytesPerPut} bytes per request: split them into several requests.");
        }

        return keys;
    }
}
