using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Streams.V1;

namespace Streams.Cli;

/// <summary>
/// <c>streams firehose ...</c>: delivery streams that copy a stream's records into objects in
/// S3-compatible storage or a local directory: create, describe, list, update the destination, delete.
/// </summary>
internal static class FirehoseCommands
{
    private const int MaxListLimit = 10_000;

    public static Command Create(CliContext cli) => new("firehose", "Deliver a stream's records to S3-compatible storage or a local directory: create, list, describe, update and delete delivery streams.")
    {
        CreateDeliveryStream(cli),
        ListDeliveryStreams(cli),
        DescribeDeliveryStream(cli),
        UpdateDestination(cli),
        DeleteDeliveryStream(cli),
    };

    private static Argument<string> Name() => new("name") { Description = "The delivery stream's name: 1-64 characters of letters, digits, '_', '.' and '-'." };

    private static Command CreateDeliveryStream(CliContext cli)
    {
        var name = Name();
        var source = new Option<string>("--source") { HelpName = "STREAM", Description = "The stream to deliver (it must exist).", Required = true };
        var position = new Option<InitialPosition?>("--initial-position")
        {
            HelpName = "trim-horizon|latest",
            Description = "Where to start on the source's shards: everything still held (trim-horizon, the default) or only new records (latest).",
            CustomParser = ParseInitialPosition,
        };
        var destination = new DestinationOptions(update: false);
        var command = new Command("create", "Create a delivery stream; the nodes' workers start delivering within a few seconds. "
            + "Without --s3-bucket or --directory, objects go to firehose/NAME under each node's data directory.")
        {
            name, source, position,
        };
        destination.AddTo(command);
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new CreateDeliveryStreamRequest
            {
                DeliveryStreamName = parse.GetRequiredValue(name),
                SourceStreamName = parse.GetRequiredValue(source),
                Destination = destination.Apply(parse.CommandResult, new DeliveryDestination()),
                InitialPosition = parse.GetValue(position) ?? InitialPosition.Unspecified,
            };
            var response = await session.Firehose.CreateDeliveryStreamAsync(request, session.Call());
            session.Out.Result(response, $"created delivery stream {request.DeliveryStreamName} from {request.SourceStreamName} to {Target(request.Destination)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListDeliveryStreams(CliContext cli)
    {
        var limit = new Option<int?>("--limit") { HelpName = "N", Description = "List at most this many delivery streams (default: all of them)." }.AtLeast(1);
        var command = new Command("list", "List the delivery streams in name order, following every page.") { limit };
        cli.SetAction(command, async (session, parse) =>
        {
            var max = parse.GetValue(limit);
            var all = new ListDeliveryStreamsResponse();
            var request = new ListDeliveryStreamsRequest();
            while (true)
            {
                request.Limit = max is { } m ? Math.Min(m - all.DeliveryStreamNames.Count, MaxListLimit) : 0;
                var page = await session.Firehose.ListDeliveryStreamsAsync(request, session.Call());
                all.DeliveryStreamNames.Add(page.DeliveryStreamNames);
                all.HasMoreDeliveryStreams = page.HasMoreDeliveryStreams;
                if (!page.HasMoreDeliveryStreams || page.DeliveryStreamNames.Count == 0 || all.DeliveryStreamNames.Count >= max)
                {
                    break;
                }

                request = new ListDeliveryStreamsRequest { ExclusiveStartDeliveryStreamName = page.DeliveryStreamNames[^1] };
            }

            if (max is { } cap && all.DeliveryStreamNames.Count > cap)
            {
                all.HasMoreDeliveryStreams = true;
                while (all.DeliveryStreamNames.Count > cap)
                {
                    all.DeliveryStreamNames.RemoveAt(all.DeliveryStreamNames.Count - 1);
                }
            }

            if (session.Out.IsJson)
            {
                session.Out.Message(all);
            }
            else
            {
                foreach (var deliveryStream in all.DeliveryStreamNames)
                {
                    session.Out.Line(deliveryStream);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DescribeDeliveryStream(CliContext cli)
    {
        var name = Name();
        var command = new Command("describe", "Show a delivery stream's source, destination (without the secret key), totals and each shard's progress.") { name };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new DescribeDeliveryStreamRequest { DeliveryStreamName = parse.GetRequiredValue(name) };
            var response = await session.Firehose.DescribeDeliveryStreamAsync(request, session.Call());
            if (session.Out.IsJson)
            {
                session.Out.Message(response);
                return ExitCodes.Ok;
            }

            Print(session.Out, response.DeliveryStreamDescription ?? new DeliveryStreamDescription { DeliveryStreamName = request.DeliveryStreamName });
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command UpdateDestination(CliContext cli)
    {
        var name = Name();
        var destination = new DestinationOptions(update: true);
        var command = new Command("update", "Change a delivery stream's destination: the options given replace those settings, the rest stay as they are. "
            + "Workers finish the object under way and continue with the new destination.")
        {
            name,
        };
        destination.AddTo(command);
        cli.SetAction(command, async (session, parse) =>
        {
            var deliveryStream = parse.GetRequiredValue(name);
            var described = await session.Firehose.DescribeDeliveryStreamAsync(new DescribeDeliveryStreamRequest { DeliveryStreamName = deliveryStream }, session.Call());
            var current = described.DeliveryStreamDescription ?? new DeliveryStreamDescription { DeliveryStreamName = deliveryStream };
            var wanted = destination.Apply(parse.CommandResult, current.Destination?.Clone() ?? new DeliveryDestination());
            if (destination.CheckUpdate(parse.CommandResult, deliveryStream, current.Destination, wanted) is { } problem)
            {
                session.Out.Error($"error: {problem}");
                return ExitCodes.Usage;
            }

            var request = new UpdateDestinationRequest { DeliveryStreamName = deliveryStream, CurrentVersionId = current.VersionId, Destination = wanted };
            var response = await session.Firehose.UpdateDestinationAsync(request, session.Call());
            session.Out.Result(response, $"updated the destination of {deliveryStream} to {Target(wanted)} (version {Output.Number(response.VersionId)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DeleteDeliveryStream(CliContext cli)
    {
        var name = Name();
        var command = new Command("delete", "Stop delivery and forget the delivery stream and its consumer group; objects already written stay.") { name };
        cli.SetAction(command, async (session, parse) =>
        {
            var request = new DeleteDeliveryStreamRequest { DeliveryStreamName = parse.GetRequiredValue(name) };
            var response = await session.Firehose.DeleteDeliveryStreamAsync(request, session.Call());
            session.Out.Result(response, $"deleted delivery stream {request.DeliveryStreamName}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(Output output, DeliveryStreamDescription description)
    {
        var destination = description.Destination ?? new DeliveryDestination();
        var pairs = new List<(string Name, string Value)>
        {
            ("name", description.DeliveryStreamName),
            ("source", description.SourceStreamName),
            ("status", Output.Name(description.Status)),
            ("version", Output.Number(description.VersionId)),
            ("starts at", description.InitialPosition == InitialPosition.Latest ? "latest" : "trim-horizon"),
            ("consumer group", description.ConsumerGroupName),
            ("created", Output.Time(description.CreateTimestamp)),
            ("updated", Output.Time(description.LastUpdateTimestamp)),
            ("destination", Target(destination)),
        };
        if (destination.TargetCase == DeliveryDestination.TargetOneofCase.S3)
        {
            pairs.Add(("region", destination.S3.Region));
            pairs.Add(("credentials", Credentials(destination.S3)));
        }

        var hints = destination.BufferingHints ?? new BufferingHints();
        pairs.Add(("prefix", destination.Prefix));
        pairs.Add(("error prefix", destination.ErrorOutputPrefix));
        pairs.Add(("buffering", $"{Output.Number(hints.SizeInMbs)} MiB or {Output.Number(hints.IntervalInSeconds)} s, whichever comes first"));
        pairs.Add(("compression", destination.Compression == Compression.Gzip ? "gzip" : "none"));
        pairs.Add(("format", Format(destination)));
        output.Pairs(pairs);
        output.Line("");
        output.Pairs(
            ("objects", Output.Number(description.ObjectsDelivered)),
            ("records", Output.Number(description.RecordsDelivered)),
            ("bytes", Output.Number(description.BytesDelivered)),
            ("failed records", Output.Number(description.RecordsFailed)),
            ("upload failures", Output.Number(description.UploadFailures)),
            ("lag", $"{Output.Number(description.LagMillis)} ms, {Output.Number(description.LagRecords)} records"));
        output.Line("");
        if (description.Shards.Count == 0)
        {
            output.Line($"no shards: the source stream {description.SourceStreamName} does not exist; workers wait for it.");
            return;
        }

        output.Table(
            ["SHARD", "WORKER", "DELIVERED", "PENDING", "LAG MS", "LAG RECORDS", "OBJECTS", "RECORDS", "BYTES", "LAST ERROR"],
            description.Shards.Select(s => new[]
            {
                s.ShardId,
                s.Worker,
                s.ShardEnd ? "SHARD_END" : s.DeliveredSequenceNumber,
                s.PendingSequenceNumber,
                Output.Number(s.LagMillis),
                Output.Number(s.LagRecords),
                Output.Number(s.ObjectsDelivered),
                Output.Number(s.RecordsDelivered),
                Output.Number(s.BytesDelivered),
                s.LastError.Length == 0 ? "" : s.LastErrorAt is null ? s.LastError : $"{Output.Time(s.LastErrorAt)} {s.LastError}",
            }));
    }

    /// <summary>Where objects go, in one phrase: <c>s3://bucket at http://host:9000</c> or <c>directory PATH</c>.</summary>
    private static string Target(DeliveryDestination destination) => destination.TargetCase switch
    {
        DeliveryDestination.TargetOneofCase.S3 => $"s3://{destination.S3.Bucket}" + (destination.S3.Endpoint.Length > 0 ? $" at {destination.S3.Endpoint}" : ""),
        DeliveryDestination.TargetOneofCase.LocalDirectory when destination.LocalDirectory.Path.Length > 0 => $"directory {destination.LocalDirectory.Path}",
        _ => "the default directory (firehose/NAME under each node's data directory)",
    };

    private static string Credentials(S3Destination s3) =>
        s3.AccessKeyId.Length > 0 ? $"access key {s3.AccessKeyId}"
        : s3.Profile.Length > 0 ? $"profile {s3.Profile}"
        : "the nodes' own (environment, AWS_PROFILE, ~/.aws)";

    private static string Format(DeliveryDestination destination) => destination.RecordFormat switch
    {
        RecordFormat.JsonLines => "json-lines",
        _ when !destination.HasRecordDelimiter => @"raw, delimiter \n",
        _ when destination.RecordDelimiter.IsEmpty => "raw, no delimiter",
        _ => $"raw, delimiter {Escape(destination.RecordDelimiter)}",
    };

    /// <summary>Bytes the way <c>--delimiter</c> takes them: printable ASCII as itself, <c>\n \r \t \0 \\</c>, else <c>\xHH</c>.</summary>
    internal static string Escape(ByteString bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes.Span)
        {
            text.Append(b switch
            {
                (byte)'\n' => @"\n",
                (byte)'\r' => @"\r",
                (byte)'\t' => @"\t",
                0 => @"\0",
                (byte)'\\' => @"\\",
                >= 0x20 and < 0x7F => ((char)b).ToString(),
                _ => $@"\x{b:X2}",
            });
        }

        return text.ToString();
    }

    /// <summary>Undoes <see cref="Escape"/>: null and a reason when <paramref name="text"/> holds an unknown escape.</summary>
    internal static ByteString? Unescape(string text, out string? problem)
    {
        problem = null;
        var bytes = new List<byte>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                literal.Append(text[i]);
                continue;
            }

            bytes.AddRange(Encoding.UTF8.GetBytes(literal.ToString()));
            literal.Clear();
            var escape = i + 1 < text.Length ? text[i + 1] : ' ';
            byte? simple = escape switch
            {
                'n' => (byte)'\n',
                'r' => (byte)'\r',
                't' => (byte)'\t',
                '0' => 0,
                '\\' => (byte)'\\',
                _ => null,
            };
            if (simple is { } b)
            {
                bytes.Add(b);
            }
            else if (escape == 'x' && i + 3 < text.Length
                && byte.TryParse(text.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                bytes.Add(value);
                i += 2;
            }
            else
            {
                problem = $"'{text[i..Math.Min(i + 2, text.Length)]}' is not an escape: use \\n, \\r, \\t, \\0, \\\\ or \\xHH.";
                return null;
            }

            i++;
        }

        bytes.AddRange(Encoding.UTF8.GetBytes(literal.ToString()));
        return ByteString.CopyFrom([.. bytes]);
    }

    private static InitialPosition? ParseInitialPosition(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        switch (text.ToUpperInvariant())
        {
            case "TRIM-HORIZON":
                return InitialPosition.TrimHorizon;
            case "LATEST":
                return InitialPosition.Latest;
            default:
                result.AddError($"'{text}' is not an initial position: use trim-horizon or latest.");
                return null;
        }
    }

    /// <summary>The destination options <c>create</c> and <c>update</c> share, their checks, and how they change a destination.</summary>
    private sealed class DestinationOptions
    {
        private const int MaxDelimiterBytes = 16;

        private readonly bool _update;
        private readonly Option<string> _bucket;
        private readonly Option<string> _endpoint;
        private readonly Option<string> _region;
        private readonly Option<string> _accessKeyId;
        private readonly Option<string> _secretAccessKey;
        private readonly Option<string> _profile;
        private readonly Option<string> _directory;
        private readonly Option<string> _prefix;
        private readonly Option<string> _errorPrefix;
        private readonly Option<int?> _bufferSize;
        private readonly Option<int?> _bufferInterval;
        private readonly Option<bool> _gzip;
        private readonly Option<RecordFormat?> _format;
        private readonly Option<ByteString?> _delimiter;

        public DestinationOptions(bool update)
        {
            _update = update;
            var unchanged = update ? " (default: unchanged)" : "";
            _bucket = new("--s3-bucket") { HelpName = "BUCKET", Description = "Write objects to this S3 bucket (3-63 characters of a-z, 0-9, '.' and '-')." };
            _endpoint = new("--s3-endpoint") { HelpName = "URL", Description = $"The S3-compatible endpoint, such as http://127.0.0.1:9000 (MinIO); \"\" for AWS's endpoint of the region{(update ? unchanged : " (the default)")}." };
            _region = new("--s3-region") { HelpName = "REGION", Description = $"The bucket's region{(update ? unchanged : " (default us-east-1)")}." };
            _accessKeyId = new("--s3-access-key-id")
            {
                HelpName = "KEY_ID",
                Description = update
                    ? "Sign with this access key (needs --s3-secret-access-key); \"\" to sign with the nodes' own AWS credentials (default: unchanged)."
                    : "Sign with this access key (needs --s3-secret-access-key); default --s3-profile, else the nodes' own AWS credentials.",
            };
            _secretAccessKey = new("--s3-secret-access-key")
            {
                HelpName = "SECRET",
                Description = update
                    ? "The access key's secret; required while the destination signs with an access key, since the cluster never shows it back."
                    : "The access key's secret (keep it out of shell history: prefer --s3-profile or the nodes' own credentials).",
            };
            _profile = new("--s3-profile") { HelpName = "PROFILE", Description = $"Sign with this profile of the nodes' AWS configuration files instead of a key pair{unchanged}." };
            _directory = new("--directory") { HelpName = "PATH", Description = "Write objects to this directory on each node's disk (relative: under its data directory) instead of S3." };
            _prefix = new("--prefix") { HelpName = "PREFIX", Description = $"Put object keys under this prefix, before the yyyy/MM/dd/HH folders{unchanged}." };
            _errorPrefix = new("--error-prefix") { HelpName = "PREFIX", Description = $"Put records that cannot be delivered under this prefix{(update ? unchanged : " (default errors/)")}." };
            _bufferSize = Between(new("--buffer-size-mb") { HelpName = "MIB", Description = $"Close an object once its records reach this many MiB, 1-128{(update ? unchanged : " (default 5)")}." }, 1, 128);
            _bufferInterval = Between(new("--buffer-interval") { HelpName = "SECONDS", Description = $"Close an object once its first record waited this long, 1-900{(update ? unchanged : " (default 300)")}." }, 1, 900);
            _gzip = new("--gzip") { Description = update ? "Compress each object with gzip (keys end with .gz); --gzip false stops compressing." : "Compress each object with gzip (keys end with .gz)." };
            _format = new("--format")
            {
                HelpName = "raw|json-lines",
                Description = $"raw: each record's data and the delimiter; json-lines: one JSON object per record with its sequence number, key, time and base64 data{(update ? unchanged : " (default raw)")}.",
                CustomParser = ParseFormat,
            };
            _delimiter = new("--delimiter")
            {
                HelpName = "TEXT",
                Description = $@"With --format raw: written after each record, up to 16 bytes; escapes \n \r \t \0 \\ \xHH; """" for none{(update ? unchanged : @" (default \n)")}.",
                CustomParser = ParseDelimiter,
            };
        }

        private Option[] S3Options => [_bucket, _endpoint, _region, _accessKeyId, _secretAccessKey, _profile];

        private Option[] All => [.. S3Options, _directory, _prefix, _errorPrefix, _bufferSize, _bufferInterval, _gzip, _format, _delimiter];

        public void AddTo(Command command)
        {
            foreach (var option in All)
            {
                command.Options.Add(option);
            }

            command.Validators.Add(Validate);
        }

        /// <summary>Writes the options given onto <paramref name="destination"/> and returns it.</summary>
        public DeliveryDestination Apply(CommandResult result, DeliveryDestination destination)
        {
            if (Given(result, _directory))
            {
                destination.LocalDirectory = new LocalDirectoryDestination { Path = result.GetValue(_directory) ?? "" };
            }

            if (S3Options.Any(o => Given(result, o)))
            {
                var s3 = destination.TargetCase == DeliveryDestination.TargetOneofCase.S3 ? destination.S3 : new S3Destination();
                Set(result, _bucket, v => s3.Bucket = v);
                Set(result, _endpoint, v => s3.Endpoint = v);
                Set(result, _region, v => s3.Region = v);
                Set(result, _accessKeyId, v =>
                {
                    // A new key pair replaces the profile; an empty key id goes back to the nodes' own credentials.
                    s3.AccessKeyId = v;
                    s3.SecretAccessKey = "";
                    if (v.Length > 0)
                    {
                        s3.Profile = "";
                    }
                });
                Set(result, _secretAccessKey, v => s3.SecretAccessKey = v);
                Set(result, _profile, v =>
                {
                    s3.Profile = v;
                    if (v.Length > 0)
                    {
                        s3.AccessKeyId = "";
                        s3.SecretAccessKey = "";
                    }
                });
                destination.S3 = s3;
            }

            Set(result, _prefix, v => destination.Prefix = v);
            Set(result, _errorPrefix, v => destination.ErrorOutputPrefix = v);
            if (result.GetValue(_bufferSize) is { } size)
            {
                (destination.BufferingHints ??= new BufferingHints()).SizeInMbs = size;
            }

            if (result.GetValue(_bufferInterval) is { } interval)
            {
                (destination.BufferingHints ??= new BufferingHints()).IntervalInSeconds = interval;
            }

            if (Given(result, _gzip))
            {
                destination.Compression = result.GetValue(_gzip) ? Compression.Gzip : Compression.None;
            }

            if (result.GetValue(_format) is { } format)
            {
                destination.RecordFormat = format;
                if (format == RecordFormat.JsonLines)
                {
                    // JSON lines end with a newline; a raw delimiter kept from before would be refused.
                    destination.ClearRecordDelimiter();
                }
            }

            if (result.GetValue(_delimiter) is { } delimiter)
            {
                destination.RecordDelimiter = delimiter;
            }

            return destination;
        }

        /// <summary>What <c>update</c> cannot send for <paramref name="wanted"/> (the flags applied on top of <paramref name="current"/>), or null.</summary>
        public string? CheckUpdate(CommandResult result, string deliveryStream, DeliveryDestination? current, DeliveryDestination wanted)
        {
            var now = current is null ? "its default directory" : Target(current);
            var s3Target = wanted.TargetCase == DeliveryDestination.TargetOneofCase.S3;
            if (Given(result, _secretAccessKey) && (!s3Target || wanted.S3.AccessKeyId.Length == 0))
            {
                return $"--s3-secret-access-key needs an access key, and {deliveryStream}'s destination has none; give --s3-access-key-id too.";
            }

            if (s3Target && wanted.S3.Bucket.Length == 0)
            {
                return $"{Needs(result, S3Options)} --s3-bucket: {deliveryStream} writes to {now}; give --s3-bucket to switch it to S3.";
            }

            if (Given(result, _delimiter) && wanted.RecordFormat == RecordFormat.JsonLines)
            {
                return $"--delimiter applies to raw output only, and {deliveryStream} writes json-lines; add --format raw.";
            }

            return s3Target && wanted.S3.AccessKeyId.Length > 0 && wanted.S3.SecretAccessKey.Length == 0
                ? $"{deliveryStream} signs with access key {wanted.S3.AccessKeyId}, whose secret the cluster never shows back; "
                    + "give --s3-secret-access-key again (or --s3-profile to sign with a profile instead)."
                : null;
        }

        private void Validate(CommandResult result)
        {
            var s3 = S3Options.Where(o => Given(result, o)).ToList();
            if (Given(result, _directory) && s3.Count > 0)
            {
                result.AddError($"--directory cannot be used with {Names(result, s3)}: a delivery stream writes to S3 or to a local directory, not both.");
            }

            if (Given(result, _accessKeyId) && Given(result, _profile))
            {
                result.AddError("--s3-access-key-id and --s3-profile cannot be used together: sign with a key pair or with a profile.");
            }

            var keyId = result.GetValue(_accessKeyId);
            if (!string.IsNullOrEmpty(keyId) && !Given(result, _secretAccessKey))
            {
                result.AddError("--s3-access-key-id needs --s3-secret-access-key.");
            }

            if (Given(result, _delimiter) && result.GetValue(_format) == RecordFormat.JsonLines)
            {
                result.AddError("--delimiter applies to --format raw only: JSON lines always end with a newline.");
            }

            if (_update)
            {
                if (!All.Any(o => Given(result, o)))
                {
                    result.AddError("nothing to change: give at least one destination option, such as --buffer-interval or --s3-bucket.");
                }

                return;
            }

            if (Given(result, _secretAccessKey) && string.IsNullOrEmpty(keyId))
            {
                result.AddError("--s3-secret-access-key needs --s3-access-key-id.");
            }

            if (s3.Count > 0 && !Given(result, _bucket))
            {
                result.AddError($"{Needs(result, s3)} --s3-bucket: the bucket to write to.");
            }
        }

        private static bool Given(CommandResult result, Option option) => result.GetResult(option) is { Implicit: false };

        /// <summary>The options given, as a list: <c>--a</c>, <c>--a and --b</c>, <c>--a, --b and --c</c>.</summary>
        private static string Names(CommandResult result, IEnumerable<Option> options)
        {
            var names = options.Where(o => Given(result, o)).Select(o => o.Name).ToList();
            return names.Count <= 1 ? string.Concat(names) : $"{string.Join(", ", names[..^1])} and {names[^1]}";
        }

        /// <summary>The options given and the verb that fits them: <c>--a needs</c>, <c>--a and --b need</c>.</summary>
        private static string Needs(CommandResult result, IEnumerable<Option> options)
        {
            var given = options.Where(o => Given(result, o)).ToList();
            return $"{Names(result, given)} {(given.Count == 1 ? "needs" : "need")}";
        }

        private static void Set(CommandResult result, Option<string> option, Action<string> set)
        {
            if (Given(result, option))
            {
                set(result.GetValue(option) ?? "");
            }
        }

        private static Option<int?> Between(Option<int?> option, int minimum, int maximum)
        {
            option.CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return null;
                }

                var text = result.Tokens[^1].Value;
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum)
                {
                    return value;
                }

                result.AddError($"{option.Name} must be a whole number from {minimum} to {maximum}; got '{text}'.");
                return null;
            };
            return option;
        }

        private static RecordFormat? ParseFormat(ArgumentResult result)
        {
            if (result.Tokens.Count == 0)
            {
                return null;
            }

            var text = result.Tokens[^1].Value;
            switch (text.ToUpperInvariant())
            {
                case "RAW":
                    return RecordFormat.Raw;
                case "JSON-LINES":
                    return RecordFormat.JsonLines;
                default:
                    result.AddError($"'{text}' is not a record format: use raw or json-lines.");
                    return null;
            }
        }

        private static ByteString? ParseDelimiter(ArgumentResult result)
        {
            if (result.Tokens.Count == 0)
            {
                return null;
            }

            var text = result.Tokens[^1].Value;
            var bytes = Unescape(text, out var problem);
            if (bytes is null)
            {
                result.AddError($"--delimiter '{text}': {problem}");
                return null;
            }

            if (bytes.Length > MaxDelimiterBytes)
            {
                result.AddError($"--delimiter '{text}' is {bytes.Length} bytes; at most {MaxDelimiterBytes} are allowed.");
                return null;
            }

            return bytes;
        }
    }
}
