using System.Globalization;

namespace Streams.Faults.Checking;

/// <summary>Writes a history as tab-separated files (acknowledgements, failures, deliveries, checkpoints, faults), so that a failed run can be looked into.</summary>
internal static class HistoryFiles
{
    public static void Write(History history, string directory)
    {
        Directory.CreateDirectory(directory);
        Write(Path.Combine(directory, "acked.tsv"), "at\tid\tshard\tsequence", history.Acked.Select(a => Line(a.At, a.Id, a.ShardId, a.SequenceNumber)));
        Write(Path.Combine(directory, "failed.tsv"), "at\tid\terror", history.Failed.Select(f => Line(f.At, f.Id, f.Error)));
        Write(Path.Combine(directory, "delivered.tsv"), "at\tmember\tshard\tepoch\tsequence\tid", history.Delivered.Select(d => Line(d.At, d.Member, d.ShardId, d.LeaseEpoch, d.SequenceNumber, d.Id)));
        Write(Path.Combine(directory, "checkpoints.tsv"), "started\tended\tmember\tshard\tepoch\tsequence", history.Checkpoints.Select(c => Line(c.Started, c.Ended, c.Member, c.ShardId, c.LeaseEpoch, c.SequenceNumber)));
        Write(Path.Combine(directory, "faults.tsv"), "start\thealed\tfault", history.Faults.Select(f => Line(f.Start, f.Healed, f.Description)));
    }

    private static void Write(string path, string header, IEnumerable<string> lines) => File.WriteAllLines(path, [header, .. lines]);

    private static string Line(params object[] values) =>
        string.Join('\t', values.Select(v => v is double d ? d.ToString("F3", CultureInfo.InvariantCulture) : Convert.ToString(v, CultureInfo.InvariantCulture)));
}
