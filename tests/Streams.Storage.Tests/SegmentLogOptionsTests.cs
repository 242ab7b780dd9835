using Streams.Storage.Segments;

namespace Streams.Storage.Tests.Segments;

/// <summary>Options: the defaults of the brief, and Validate messages that say what to change.</summary>
public sealed class SegmentLogOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_as_documented()
    {
        var options = new SegmentLogOptions { Directory = "data" };
        options.Validate();
        Assert.Equal(128L * 1024 * 1024, options.SegmentSizeBytes);
        Assert.Equal(TimeSpan.FromHours(1), options.SegmentMaxAge);
        Assert.Equal(4096, options.IndexIntervalBytes);
        Assert.Equal(DurabilityPolicy.Always, options.Durability);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.FlushInterval);
        Assert.Equal(TimeSpan.FromHours(24), options.Retention);
        Assert.Null(options.RetentionBytes);
        Assert.False(options.VerifyAllSegmentsOnOpen);
    }

    public static TheoryData<SegmentLogOptions, string> Invalid => new()
    {
        { new SegmentLogOptions { Directory = " " }, "Directory is empty" },
        { new SegmentLogOptions { Directory = "d", SegmentSizeBytes = 1000 }, "SegmentSizeBytes is 1000: set it between 4096 (4 KiB) and 2147483647 (2 GiB - 1)" },
        { new SegmentLogOptions { Directory = "d", SegmentSizeBytes = 4L << 30 }, "SegmentSizeBytes is 4294967296" },
        { new SegmentLogOptions { Directory = "d", SegmentMaxAge = TimeSpan.Zero }, "SegmentMaxAge is 00:00:00: set it to a positive time span" },
        { new SegmentLogOptions { Directory = "d", IndexIntervalBytes = 8 }, "IndexIntervalBytes is 8: set it between 72 and 16777216" },
        { new SegmentLogOptions { Directory = "d", Durability = (DurabilityPolicy)9 }, "Durability is 9: set it to Always, Interval or Never" },
        { new SegmentLogOptions { Directory = "d", Durability = DurabilityPolicy.Interval, FlushInterval = TimeSpan.Zero }, "FlushInterval is 00:00:00: under Interval durability set it between 1 ms and 1 hour" },
        { new SegmentLogOptions { Directory = "d", Retention = TimeSpan.FromMinutes(30) }, "Retention is 00:30:00: set it between 01:00:00 (1 hour) and 365.00:00:00 (365 days)" },
        { new SegmentLogOptions { Directory = "d", Retention = TimeSpan.FromDays(366) }, "Retention is 366.00:00:00" },
        { new SegmentLogOptions { Directory = "d", RetentionBytes = 0 }, "RetentionBytes is 0: set it to a positive number of bytes, or leave it null" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_names_the_setting_and_what_to_set_it_to(SegmentLogOptions options, string expected)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_lists_every_problem_at_once()
    {
        var error = Assert.Throws<ArgumentException>(new SegmentLogOptions { Directory = "d", SegmentSizeBytes = 0, Retention = TimeSpan.Zero }.Validate);
        Assert.Contains("SegmentSizeBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("Retention", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flush_interval_only_matters_under_Interval()
    {
        new SegmentLogOptions { Directory = "d", FlushInterval = TimeSpan.Zero, Durability = DurabilityPolicy.Always }.Validate();
    }
}
