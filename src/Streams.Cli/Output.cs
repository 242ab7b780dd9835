using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Streams.V1;

namespace Streams.Cli;

/// <summary>How results are printed: <c>text</c> for people, <c>json</c> for scripts.</summary>
internal enum OutputFormat
{
    Text,
    Json,
}

/// <summary>
/// Writes a command's results: lines, aligned tables and key/value blocks as text, or API
/// messages as JSON (proto field names, defaults included). Safe to call from concurrent tasks.
/// </summary>
internal sealed class Output(TextWriter writer, TextWriter error, OutputFormat format)
{
    private static readonly JsonFormatter _json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true));
    private static readonly UTF8Encoding _strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly Lock _lock = new();

    public bool IsJson => format == OutputFormat.Json;

    public void Line(string text)
    {
        lock (_lock)
        {
            writer.WriteLine(text);
        }
    }

    /// <summary>A line on standard error: a problem that does not stop the command.</summary>
    public void Error(string text)
    {
        lock (_lock)
        {
            error.WriteLine(text);
        }
    }

    /// <summary>An API message as one line of JSON.</summary>
    public void Message(IMessage message) => Line(_json.Format(message));

    /// <summary>The response as JSON, or <paramref name="text"/>.</summary>
    public void Result(IMessage response, string text)
    {
        if (IsJson)
        {
            Message(response);
        }
        else
        {
            Line(text);
        }
    }

    /// <summary>One JSON object on one line, written by <paramref name="write"/>.</summary>
    public void JsonObject(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        Line(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Writes <paramref name="message"/> as the value of <paramref name="property"/>.</summary>
    public static void WriteMessage(Utf8JsonWriter json, string property, IMessage message)
    {
        json.WritePropertyName(property);
        json.WriteRawValue(_json.Format(message));
    }

    /// <summary>Writes <paramref name="messages"/> as an array, the value of <paramref name="property"/>.</summary>
    public static void WriteMessages(Utf8JsonWriter json, string property, IEnumerable<IMessage> messages)
    {
        json.WritePropertyName(property);
        json.WriteStartArray();
        foreach (var message in messages)
        {
            json.WriteRawValue(_json.Format(message));
        }

        json.WriteEndArray();
    }

    /// <summary>A record read from a shard: <c>shard seq key data</c>, or JSON with the whole record.</summary>
    public void Record(string shardId, Record record)
    {
        if (IsJson)
        {
            JsonObject(json =>
            {
                json.WriteString("shard_id", shardId);
                WriteMessage(json, "record", record);
            });
        }
        else
        {
            Line($"{shardId} {record.SequenceNumber} {record.PartitionKey} {Data(record.Data)}");
        }
    }

    /// <summary>Columns padded to their widest cell; an empty cell prints as <c>-</c>.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var cells = rows.Select(row => row.Select(cell => cell.Length == 0 ? "-" : cell).ToArray()).ToList();
        var widths = headers.Select((header, i) => cells.Select(row => row[i].Length).Append(header.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var row in cells.Prepend([.. headers]))
        {
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            Line(text.ToString().TrimEnd());
            text.Clear();
        }
    }

    /// <summary>Name and value pairs, the values aligned.</summary>
    public void Pairs(params IReadOnlyList<(string Name, string Value)> pairs)
    {
        var width = pairs.Max(p => p.Name.Length) + 2;
        foreach (var (name, value) in pairs)
        {
            Line($"{name.PadRight(width)}{(value.Length == 0 ? "-" : value)}");
        }
    }

    /// <summary>Record data as text when it is printable UTF-8, else <c>base64:</c> and its base64.</summary>
    public static string Data(ByteString data)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            var text = _strictUtf8.GetString(data.Span);
            if (!text.Any(c => char.IsControl(c) && c != '\t'))
            {
                return text;
            }
        }
        catch (DecoderFallbackException)
        {
            // Not UTF-8: base64 below.
        }

        return "base64:" + data.ToBase64();
    }

    public static string Time(Timestamp? timestamp) =>
        timestamp is null ? "" : timestamp.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string List(IEnumerable<string> items) => string.Join(',', items.Where(i => i.Length > 0));

    /// <summary>An API enum value the way the proto spells it, without the type prefix: ACTIVE, VOTER.</summary>
    public static string Name<T>(T value)
        where T : struct, System.Enum =>
        value.ToString().ToUpperInvariant();

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
