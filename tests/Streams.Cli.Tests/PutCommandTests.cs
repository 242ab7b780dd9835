using System.Globalization;
using Streams.V1;

namespace Streams.Cli.Tests;

public sealed class PutCommandTests : IAsyncLifetime
{
    private FakeServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeServer.StartAsync();
        _server.Streams.On<PutRecordsRequest, PutRecordsResponse>(Succeed);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Records_from_arguments_print_their_shard_and_sequence_number()
    {
        var result = await _server.RunAsync("put", "orders", "first", "second", "--partition-key", "customer-7");

        Assert.Equal(0, result.ExitCode);
        var request = Assert.Single(_server.Streams.Requests<PutRecordsRequest>());
        Assert.Equal("orders", request.StreamName);
        Assert.Equal(["first", "second"], request.Records.Select(r => r.Data.ToStringUtf8()));
        Assert.All(request.Records, r => Assert.Equal("customer-7", r.PartitionKey));
        Assert.Equal(["shardId-000000000000 000000000001", "shardId-000000000000 000000000002"], result.Lines);
    }

    [Fact]
    public async Task Without_a_partition_key_every_record_gets_a_random_one()
    {
        await _server.RunAsync("put", "orders", "a", "b", "c");

        var keys = Assert.Single(_server.Streams.Requests<PutRecordsRequest>()).Records.Select(r => r.PartitionKey).ToList();
        Assert.Equal(3, keys.Distinct().Count());
        Assert.All(keys, k => Assert.False(string.IsNullOrEmpty(k)));
    }

    [Fact]
    public async Task Lines_from_stdin_go_in_batches_of_at_most_500()
    {
        var lines = Enumerable.Range(1, 1201).Select(i => $"line {i}");
        var stdin = string.Join('\n', lines) + "\n";

        var result = await _server.RunWithInputAsync(stdin, "put", "orders", "--key-from-line-number", "--explicit-hash-key", "42", "--quiet");

        Assert.Equal(0, result.ExitCode);
        var requests = _server.Streams.Requests<PutRecordsRequest>();
        Assert.Equal([500, 500, 201], requests.Select(r => r.Records.Count));
        var records = requests.SelectMany(r => r.Records).ToList();
        Assert.Equal(lines, records.Select(r => r.Data.ToStringUtf8()));
        Assert.Equal(Enumerable.Range(1, 1201).Select(i => i.ToString(CultureInfo.InvariantCulture)), records.Select(r => r.PartitionKey));
        Assert.All(records, r => Assert.Equal("42", r.ExplicitHashKey));
        Assert.Equal("1201 record(s) written", Assert.Single(result.Lines));
    }

    [Fact]
    public async Task A_batch_holds_at_most_5_MiB()
    {
        var line = new string('x', 1024 * 1024 - 100);
        var stdin = string.Join('\n', Enumerable.Repeat(line, 6));

        var result = await _server.RunWithInputAsync(stdin, "put", "orders", "--partition-key", "k", "--quiet");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([5, 1], _server.Streams.Requests<PutRecordsRequest>().Select(r => r.Records.Count));
    }

    [Fact]
    public async Task A_failed_record_is_printed_and_the_exit_code_is_1()
    {
        _server.Streams.On<PutRecordsRequest, PutRecordsResponse>(request =>
        {
            var response = Succeed(request);
            response.Records[1] = new PutRecordsResultEntry { ErrorCode = "ProvisionedThroughputExceededException", ErrorMessage = "Rate exceeded for shard shardId-000000000000." };
            response.FailedRecordCount = 1;
            return response;
        });

        var result = await _server.RunAsync("put", "orders", "a", "b", "c");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(["shardId-000000000000 000000000001", "shardId-000000000000 000000000003"], result.Lines);
        Assert.Contains("error: record 2: ProvisionedThroughputExceededException: Rate exceeded for shard shardId-000000000000.", result.Err, StringComparison.Ordinal);
    }

    private static PutRecordsResponse Succeed(PutRecordsRequest request)
    {
        var response = new PutRecordsResponse();
        for (var i = 0; i < request.Records.Count; i++)
        {
            response.Records.Add(new PutRecordsResultEntry { ShardId = "shardId-000000000000", SequenceNumber = (i + 1).ToString("D12", CultureInfo.InvariantCulture) });
        }

        return response;
    }
}
