using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Streams.V1;

namespace Streams.Cli;

/// <summary>
/// <c>streams put STREAM [RECORD...]</c>: writes records given as arguments, or one per line of
/// standard input, in PutRecords batches of at most 500 records and 5 MiB.
/// </summary>
internal static class PutCommand
{
    public const int MaxRecordsPerCall = 500;
    public const int MaxBytesPerCall = 5 * 1024 * 1024;

    public static Command Create(CliContext cli)
    {
        var stream = Arguments.Stream();
        var records = new Argument<string[]>("records")
        {
            Description = "Records to write, as UTF-8 text. None: one record per line of standard input.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var partitionKey = new Option<string>("--partition-key", "-k") { HelpName = "KEY", Description = "The partition key of every record (default: a random key per record)." };
        var keyFromLine = new Option<bool>("--key-from-line-number") { Description = "Use each record's line number (or argument position), from 1, as its partition key." };
        var explicitHashKey = new Option<string>("--explicit-hash-key") { HelpName = "HASH_KEY", Description = "Place every record by this hash key (a decimal integer below 2^128) instead of its partition key's hash." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only how many records were written (failures are still printed)." };
        var command = new Command("put", "Write records to a stream; prints each record's shard and sequence number.")
        {
            stream, records, partitionKey, keyFromLine, explicitHashKey, quiet,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(partitionKey) is not null && result.GetValue(keyFromLine))
            {
                result.AddError("--partition-key and --key-from-line-number cannot be used together.");
            }
        });

        cli.SetAction(command, async (session, parse) =>
        {
            var writer = new Writer(session, parse.GetRequiredValue(stream), parse.GetValue(quiet));
            var key = parse.GetValue(partitionKey);
            var byLine = parse.GetValue(keyFromLine);
            var hashKey = parse.GetValue(explicitHashKey) ?? "";
            long number = 0;
            await foreach (var text in ReadAsync(parse.GetValue(records) ?? [], session.Input, session.Cancellation))
            {
                number++;
                await writer.AddAsync(new PutRecordsRequestEntry
                {
                    Data = ByteString.CopyFromUtf8(text),
                    PartitionKey = key ?? (byLine ? number.ToString(CultureInfo.InvariantCulture) : Guid.NewGuid().ToString("N")),
                    ExplicitHashKey = hashKey,
                });
            }

            await writer.FlushAsync();
            return writer.Finish();
        });
        return command;
    }

    private static async IAsyncEnumerable<string> ReadAsync(string[] records, TextReader input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (records.Length > 0)
        {
            foreach (var record in records)
            {
                yield return record;
            }

            yield break;
        }

        while (await input.ReadLineAsync(cancellationToken) is { } line)
        {
            yield return line;
        }
    }

    /// <summary>Fills batches, sends each when full, and prints a result per record.</summary>
    private sealed class Writer(CliSession session, string stream, bool quiet)
    {
        private PutRecordsRequest _batch = new() { StreamName = stream };
        private long _batchBytes;
        private long _sent;
        private long _written;
        private long _failed;

        public async Task AddAsync(PutRecordsRequestEntry entry)
        {
            // Kinesis counts the data and the partition key towards the 5 MiB.
            var size = entry.Data.Length + Encoding.UTF8.GetByteCount(entry.PartitionKey);
            if (_batch.Records.Count == MaxRecordsPerCall || (_batch.Records.Count > 0 && _batchBytes + size > MaxBytesPerCall))
            {
                await FlushAsync();
            }

            _batch.Records.Add(entry);
            _batchBytes += size;
        }

        public async Task FlushAsync()
        {
            if (_batch.Records.Count == 0)
            {
                return;
            }

            var batch = _batch;
            _batch = new PutRecordsRequest { StreamName = stream };
            _batchBytes = 0;
            var response = await session.Streams.PutRecordsAsync(batch, session.Call());
            for (var i = 0; i < batch.Records.Count; i++)
            {
                var number = _sent + i + 1;
                var result = i < response.Records.Count
                    ? response.Records[i]
                    : new PutRecordsResultEntry { ErrorCode = "InternalFailure", ErrorMessage = "The server sent no result for this record." };
                Report(number, result);
            }

            _sent += batch.Records.Count;
        }

        public int Finish()
        {
            if (quiet)
            {
                if (session.Out.IsJson)
                {
                    session.Out.JsonObject(json =>
                    {
                        json.WriteNumber("records_written", _written);
                        json.WriteNumber("records_failed", _failed);
                    });
                }
                else
                {
                    session.Out.Line(_failed == 0 ? $"{_written} record(s) written" : $"{_written} record(s) written, {_failed} failed");
                }
            }

            return _failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }

        private void Report(long number, PutRecordsResultEntry result)
        {
            var failed = result.ErrorCode.Length > 0;
            if (failed)
            {
                _failed++;
            }
            else
            {
                _written++;
            }

            if (session.Out.IsJson && !quiet)
            {
                session.Out.Message(result);
            }
            else if (failed)
            {
                session.Out.Error($"error: record {number}: {result.ErrorCode}: {result.ErrorMessage}");
            }
            else if (!quiet)
            {
                session.Out.Line($"{result.ShardId} {result.SequenceNumber}");
            }
        }
    }
}
