using Streams.Client.Consuming;
using Streams.V1;

namespace Streams.Client.Tests.Consuming;

public sealed class ConsumerOptionsTests
{
    private static readonly ConsumerOptions _valid = new() { StreamName = "orders", GroupName = "billing" };

    [Fact]
    public void Defaults_with_a_stream_and_group_are_valid()
    {
        _valid.Validate();
        Assert.Null(_valid.MemberId);
        Assert.Equal(TimeSpan.FromSeconds(10), _valid.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), _valid.CheckpointInterval);
        Assert.False(_valid.ChecksManually);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void A_bad_setting_is_refused_with_a_message_naming_the_option_its_range_and_value(Func<ConsumerOptions, ConsumerOptions> change, string option, string[] fragments)
    {
        var error = Assert.Throws<ArgumentException>(() => change(_valid).Validate());
        Assert.Equal(option, error.ParamName);
        Assert.StartsWith($"ConsumerOptions.{option} ", error.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<Func<ConsumerOptions, ConsumerOptions>, string, string[]> Invalid() => new()
    {
        { o => new ConsumerOptions { GroupName = o.GroupName }, "StreamName", ["empty", "name the stream"] },
        { o => new ConsumerOptions { StreamName = o.StreamName }, "GroupName", ["empty", "1 to 128 characters"] },
        { o => Copy(o, groupName: "bill ing"), "GroupName", ["'bill ing'", "letters, digits"] },
        { o => Copy(o, groupName: new string('g', 129)), "GroupName", ["129 characters"] },
        { o => Copy(o, memberId: "host/1"), "MemberId", ["'host/1'", "':'"] },
        { o => Copy(o, sessionTimeout: TimeSpan.FromMilliseconds(500)), "SessionTimeout", ["between 1 s and 300 s", "500 ms"] },
        { o => Copy(o, sessionTimeout: TimeSpan.FromMinutes(6)), "SessionTimeout", ["360000 ms"] },
        { o => Copy(o, initialPosition: (InitialPosition)7), "InitialPosition", ["TrimHorizon or Latest", "7"] },
        { o => Copy(o, maxRecordsPerRead: 0), "MaxRecordsPerRead", ["between 1 and 10,000", "it is 0"] },
        { o => Copy(o, maxRecordsPerRead: 10_001), "MaxRecordsPerRead", ["10001"] },
        { o => Copy(o, idleDelay: TimeSpan.Zero), "IdleDelay", ["between 1 ms and 1 minute", "0 ms"] },
        { o => Copy(o, checkpointEveryRecords: -1), "CheckpointEveryRecords", ["0 (off) or more", "-1"] },
        { o => Copy(o, checkpointInterval: TimeSpan.FromMilliseconds(50)), "CheckpointInterval", ["TimeSpan.Zero (off) or between 100 ms and 1 hour", "50 ms"] },
        { o => Copy(o, shutdownTimeout: TimeSpan.FromMilliseconds(10)), "ShutdownTimeout", ["between 1 s and 5 minutes", "10 ms"] },
    };

    [Fact]
    public void Both_triggers_off_means_manual_checkpoints()
    {
        var manual = Copy(_valid, checkpointInterval: TimeSpan.Zero);
        manual.Validate();
        Assert.True(manual.ChecksManually);
        Assert.False(Copy(_valid, checkpointInterval: TimeSpan.Zero, checkpointEveryRecords: 10).ChecksManually);
    }

    [Fact]
    public void The_consumer_validates_its_options_and_makes_a_member_id()
    {
        using var client = StreamsClient.Create("http://127.0.0.1:1");
        Assert.Throws<ArgumentException>(() => new Consumer(client, new ConsumerOptions { StreamName = "s" }));
        var consumer = new Consumer(client, _valid);
        Assert.Matches("^[A-Za-z0-9_.:-]{1,128}$", consumer.MemberId);
        Assert.Contains($"-{Environment.ProcessId}-", consumer.MemberId, StringComparison.Ordinal);
        Assert.Equal("me-1", new Consumer(client, Copy(_valid, memberId: "me-1")).MemberId);
    }

    private static ConsumerOptions Copy(
        ConsumerOptions o,
        string? groupName = null,
        string? memberId = null,
        TimeSpan? sessionTimeout = null,
        InitialPosition? initialPosition = null,
        int? maxRecordsPerRead = null,
        TimeSpan? idleDelay = null,
        int? checkpointEveryRecords = null,
        TimeSpan? checkpointInterval = null,
        TimeSpan? shutdownTimeout = null) => new()
        {
            StreamName = o.StreamName,
            GroupName = groupName ?? o.GroupName,
            MemberId = memberId ?? o.MemberId,
            SessionTimeout = sessionTimeout ?? o.SessionTimeout,
            InitialPosition = initialPosition ?? o.InitialPosition,
            MaxRecordsPerRead = maxRecordsPerRead ?? o.MaxRecordsPerRead,
            IdleDelay = idleDelay ?? o.IdleDelay,
            CheckpointEveryRecords = checkpointEveryRecords ?? o.CheckpointEveryRecords,
            CheckpointInterval = checkpointInterval ?? o.CheckpointInterval,
            ShutdownTimeout = shutdownTimeout ?? o.ShutdownTimeout,
        };
}
