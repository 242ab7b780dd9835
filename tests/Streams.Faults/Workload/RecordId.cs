using System.Globalization;

namespace Streams.Faults.Workload;

/// <summary>
/// Names one record the workload sent: its producer and its number there (0, 1, ... in the order
/// that producer sent them). The record's data starts with it, so a record read back says what it is.
/// </summary>
internal readonly record struct RecordId(int Producer, long Number)
{
    /// <summary>What separates the id from the rest of the data.</summary>
    public const char Terminator = '|';

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"p{Producer}-{Number}");

    /// <summary>Reads the id at the start of a record's data, as <see cref="ToString"/> wrote it before a <see cref="Terminator"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> data, out RecordId id)
    {
        id = default;
        var end = data.IndexOf(Terminator);
        if (end < 0 || data.Length < 2 || data[0] != 'p')
        {
            return false;
        }

        var text = data[1..end];
        var dash = text.IndexOf('-');
        if (dash <= 0
            || !int.TryParse(text[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var producer)
            || !long.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        id = new RecordId(producer, number);
        return true;
    }
}
