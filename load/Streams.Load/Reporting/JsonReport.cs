using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streams.Load.Reporting;

/// <summary>
/// Writes a <see cref="LoadReport"/> as JSON and reads it back, so runs can be kept, compared and
/// charted by other tools. Property names are camelCase; a latency with nothing to measure (NaN) is
/// <c>null</c>, because JSON has no NaN; durations are seconds as a number, which any tool can read.
/// </summary>
internal static partial class JsonReport
{
    /// <summary>The report as indented JSON.</summary>
    /// <param name="report">The run to write.</param>
    public static string Write(LoadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.Serialize(report, ReportJsonContext.Default.LoadReport);
    }

    /// <summary>A report written by <see cref="Write"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="JsonException">It is not such a report (including a missing property or a null where a value is required).</exception>
    public static LoadReport Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize(json, ReportJsonContext.Default.LoadReport)
            ?? throw new JsonException("The JSON is null, not a load report.");
    }

    /// <summary>
    /// Source-generated (no reflection at run time, and trimming-safe). Missing constructor
    /// parameters and nulls in non-nullable places fail the read rather than produce a half-filled report.
    /// </summary>
    [JsonSourceGenerationOptions(
        PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = [typeof(NanAsNullConverter), typeof(SecondsConverter)])]
    [JsonSerializable(typeof(LoadReport))]
    private sealed partial class ReportJsonContext : JsonSerializerContext;

    /// <summary>
    /// Doubles with NaN as <c>null</c> (JSON has no NaN and a latency of nothing is not 0).
    /// Infinities, which a measurement should not produce, are the strings <c>"Infinity"</c> and
    /// <c>"-Infinity"</c>, so they still round-trip instead of failing the whole write.
    /// </summary>
    private sealed class NanAsNullConverter : JsonConverter<double>
    {
        public override bool HandleNull => true;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.Null => double.NaN,
            JsonTokenType.Number => reader.GetDouble(),
            JsonTokenType.String when reader.ValueTextEquals("Infinity") => double.PositiveInfinity,
            JsonTokenType.String when reader.ValueTextEquals("-Infinity") => double.NegativeInfinity,
            _ => throw new JsonException($"Expected a number or null, not {reader.TokenType}."),
        };

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsNaN(value))
            {
                writer.WriteNullValue();
            }
            else if (double.IsInfinity(value))
            {
                writer.WriteStringValue(value > 0 ? "Infinity" : "-Infinity");
            }
            else
            {
                writer.WriteNumberValue(value);
            }
        }
    }

    /// <summary>
    /// A <see cref="TimeSpan"/> as seconds (a number, such as <c>60</c> or <c>0.25</c>), read back to
    /// the nearest tick; the default <c>"00:01:00"</c> text is awkward for anything but .NET.
    /// </summary>
    private sealed class SecondsConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new JsonException($"Expected seconds as a number, not {reader.TokenType}.");
            }

            // Rounding to the nearest tick undoes the division in Write exactly for any duration
            // below 2^53 ticks (about 28 years).
            var ticks = Math.Round(reader.GetDouble() * TimeSpan.TicksPerSecond);
            return Math.Abs(ticks) < 9e18
                ? TimeSpan.FromTicks((long)ticks)
                : throw new JsonException("The seconds are out of range for a duration.");
        }

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
            writer.WriteNumberValue((double)value.Ticks / TimeSpan.TicksPerSecond);
    }
}
