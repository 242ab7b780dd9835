using System.CommandLine;
using System.Globalization;
using Streams.V1;

namespace Streams.Cli;

/// <summary>
/// Where to start reading a shard, as <c>--from</c> spells it: <c>trim-horizon</c>, <c>latest</c>,
/// <c>at:SEQ</c>, <c>after:SEQ</c> or <c>at-timestamp:ISO8601</c>.
/// </summary>
internal sealed record ReadPosition(ShardIteratorType Type, string SequenceNumber = "", DateTimeOffset? Timestamp = null)
{
    public static ReadPosition TrimHorizon { get; } = new(ShardIteratorType.TrimHorizon);

    public static ReadPosition Latest { get; } = new(ShardIteratorType.Latest);

    public bool NeedsShard => Type is ShardIteratorType.AtSequenceNumber or ShardIteratorType.AfterSequenceNumber;

    public static Option<ReadPosition> CreateOption(ReadPosition defaultValue) => new("--from")
    {
        Description = "Where to start: trim-horizon, latest, at:SEQ, after:SEQ or at-timestamp:ISO8601.",
        HelpName = "POSITION",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return defaultValue;
            }

            var text = result.Tokens[^1].Value;
            if (TryParse(text, out var position))
            {
                return position;
            }

            result.AddError($"'{text}' is not a position: use trim-horizon, latest, at:SEQ, after:SEQ or at-timestamp:2024-05-01T12:00:00Z.");
            return null;
        },
    };

    public static bool TryParse(string text, out ReadPosition position)
    {
        position = TrimHorizon;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var (kind, value) = colon < 0 ? (text, "") : (text[..colon], text[(colon + 1)..]);
        switch (kind.ToUpperInvariant())
        {
            case "TRIM-HORIZON" when colon < 0:
                return true;
            case "LATEST" when colon < 0:
                position = Latest;
                return true;
            case "AT" when value.Length > 0:
                position = new ReadPosition(ShardIteratorType.AtSequenceNumber, value);
                return true;
            case "AFTER" when value.Length > 0:
                position = new ReadPosition(ShardIteratorType.AfterSequenceNumber, value);
                return true;
            case "AT-TIMESTAMP" when DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp):
                position = new ReadPosition(ShardIteratorType.AtTimestamp, Timestamp: timestamp);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The position as <c>--from</c> spells it.</summary>
    public override string ToString() => Type switch
    {
        ShardIteratorType.Latest => "latest",
        ShardIteratorType.AtSequenceNumber => $"at:{SequenceNumber}",
        ShardIteratorType.AfterSequenceNumber => $"after:{SequenceNumber}",
        ShardIteratorType.AtTimestamp => $"at-timestamp:{Timestamp:O}",
        _ => "trim-horizon",
    };

    public GetShardIteratorRequest ToIteratorRequest(string stream, string shardId) => new()
    {
        StreamName = stream,
        ShardId = shardId,
        ShardIteratorType = Type,
        StartingSequenceNumber = SequenceNumber,
        Timestamp = Timestamp is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at) : null,
    };

    public StartingPosition ToStartingPosition() => new()
    {
        Type = Type,
        SequenceNumber = SequenceNumber,
        Timestamp = Timestamp is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at) : null,
    };
}
