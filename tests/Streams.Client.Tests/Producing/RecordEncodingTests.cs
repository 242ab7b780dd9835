using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Streams.Client.Producing;
using Streams.V1;

namespace Streams.Client.Tests.Producing;

/// <summary>The hand-written wire format against Google.Protobuf's own, both ways.</summary>
public sealed class RecordEncodingTests
{
    private static readonly Gen<(byte[] Data, string Key, string? HashKey)> _records =
        from length in Gen.Frequency((4, Gen.Choose(0, 40)), (1, Gen.Choose(100, 20_000)))
        from seed in Gen.Choose(0, int.MaxValue)
        from key in Gen.Elements("k", "partition-key", "ключ-🔑", new string('x', 256))
        from hash in Gen.Elements<string?>(null, "0", "340282366920938463463374607431768211455", "12345")
        select (Bytes(length, seed), key, hash);

    [Fact]
    public void A_batch_parses_as_the_PutRecordsRequest_it_stands_for()
    {
        var gen = from records in Gen.Choose(1, 30).SelectMany(n => Gen.ArrayOf(_records, n))
                  from producerId in Gen.Elements(0UL, 1UL, 0x7FFF_FFFF_FFFF_FFFFUL)
                  from sequence in Gen.Elements(0L, 1L, 300L, int.MaxValue)
                  select (records, producerId, sequence);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var batch = new ProducerBatch(0, 0) { StreamNameUtf8 = Encoding.UTF8.GetBytes("stream-é"), ProducerId = t.producerId, Sequence = t.sequence };
            foreach (var (data, key, hash) in t.records)
            {
                var keyBytes = Encoding.UTF8.GetBytes(key);
                var entry = batch.Add(null, 0, RecordEncoding.EntryLength(data.Length, keyBytes.Length, hash?.Length ?? 0));
                RecordEncoding.WriteEntry(entry, data, keyBytes, hash);
            }

            var marshaller = new PutBatchMarshaller();
            var bytes = new byte[marshaller.Measure(batch)];
            marshaller.TryWrite(batch, bytes);
            var request = PutRecordsRequest.Parser.ParseFrom(bytes);

            Assert.Equal("stream-é", request.StreamName);
            Assert.Equal(t.producerId, request.ProducerId);
            Assert.Equal(t.producerId == 0 ? 0 : t.sequence, request.ProducerSequence);
            Assert.Equal(t.records.Length, request.Records.Count);
            for (var i = 0; i < t.records.Length; i++)
            {
                Assert.Equal(t.records[i].Data, request.Records[i].Data.ToByteArray());
                Assert.Equal(t.records[i].Key, request.Records[i].PartitionKey);
                Assert.Equal(t.records[i].HashKey ?? string.Empty, request.Records[i].ExplicitHashKey);
            }

            batch.Release();
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_PutRecordsResponse_reads_back_record_by_record()
    {
        var gen = from count in Gen.Choose(0, 40)
                  from failures in Gen.ArrayOf(Gen.Elements(false, false, true), count)
                  from shards in Gen.ArrayOf(Gen.Elements("shardId-000000000000", "shardId-000000000007"), count)
                  select (failures, shards);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var response = new PutRecordsResponse();
            for (var i = 0; i < t.failures.Length; i++)
            {
                response.Records.Add(t.failures[i]
                    ? new PutRecordsResultEntry { ErrorCode = "ServiceUnavailableException", ErrorMessage = $"not written {i}" }
                    : new PutRecordsResultEntry { ShardId = t.shards[i], SequenceNumber = $"{i:D20}" });
            }

            response.FailedRecordCount = t.failures.Count(f => f);
            var read = BatchAcknowledgementMarshaller.Parse(response.ToByteArray());
            Assert.Equal(response.FailedRecordCount, read.FailedRecordCount);
            Assert.Equal(response.Records.Count, read.Count);
            for (var i = 0; i < read.Count; i++)
            {
                var expected = response.Records[i];
                Assert.Equal(expected.SequenceNumber, read[i].SequenceNumber);
                Assert.Equal(expected.ShardId, read[i].ShardId);
                Assert.Equal(expected.ErrorCode, read[i].ErrorCode);
                Assert.Equal(expected.ErrorMessage, read[i].ErrorMessage);
                Assert.Equal(expected.ErrorCode.Length == 0, read[i].Succeeded);
            }
        }).QuickCheckThrowOnFailure();
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
