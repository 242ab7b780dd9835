using System.Buffers.Binary;
using Streams.Raft.Membership;

namespace Streams.Raft.Storage.FileLog;

/// <summary>
/// The latest snapshot, one file named <see cref="FileName"/>: a 48-byte header (magic, version,
/// CRC-32C over everything after it, id counts, log generation, index, term), the voter and
/// learner ids, the data length and the data. It is written to <see cref="TempFileName"/>,
/// fsynced and renamed over the old one, so a reader sees the old snapshot or the new one, whole.
/// </summary>
internal static class SnapshotFile
{
    /// <summary>The snapshot's file name in the log directory.</summary>
    public const string FileName = "snapshot";

    /// <summary>Where a new snapshot is written before the rename; stale ones are deleted on open.</summary>
    public const string TempFileName = "snapshot.tmp";

    private const int HeaderSize = 48;
    private const uint Magic = 0x4E535253; // "SRSN" on disk
    private const ushort Version = 1;

    /// <summary>
    /// Makes <paramref name="snapshot"/> the directory's snapshot, for log generation
    /// <paramref name="generation"/>: temp file, fsync, rename, fsync of the directory. The
    /// rename is the commit point.
    /// </summary>
    public static async ValueTask WriteAsync(string directory, Snapshot snapshot, long generation, bool fsync)
    {
        var state = snapshot.Metadata.ConfState;
        var idsSize = 8 * (state.Voters.Count + state.Learners.Count);
        var header = new byte[HeaderSize + idsSize + sizeof(long)];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], state.Voters.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], state.Learners.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], snapshot.Metadata.Index);
        BinaryPrimitives.WriteInt64LittleEndian(span[40..], snapshot.Metadata.Term);
        var offset = HeaderSize;
        foreach (var id in state.Voters.Concat(state.Learners))
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[offset..], id);
            offset += 8;
        }

        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], snapshot.Data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Crc32C.Compute(span[12..], snapshot.Data.Span));

        var temp = Path.Combine(directory, TempFileName);
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await RandomAccess.WriteAsync(handle, [header, snapshot.Data], 0, CancellationToken.None);
            if (fsync)
            {
                RandomAccess.FlushToDisk(handle);
            }
        }

        File.Move(temp, Path.Combine(directory, FileName), overwrite: true);
        if (fsync)
        {
            DirectorySync.Flush(directory);
        }
    }

    /// <summary>Reads the directory's snapshot and its log generation; null when there is none.</summary>
    /// <exception cref="RaftLogCorruptionException">The file is damaged.</exception>
    public static async ValueTask<(Snapshot Snapshot, long Generation)?> ReadAsync(string directory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        // The file was fsynced before it was renamed into place: any damage is corruption.
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        if (bytes.Length < HeaderSize + sizeof(long)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)) != Version)
        {
            throw new RaftLogCorruptionException(path, 0, "not a snapshot file (bad magic, version or size)");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) != Crc32C.Compute(bytes.AsSpan(12)))
        {
            throw new RaftLogCorruptionException(path, 0, "the snapshot's checksum does not match");
        }

        var voters = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        var learners = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
        var generation = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24));
        var index = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(32));
        var term = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(40));
        var idsEnd = HeaderSize + (8L * voters) + (8L * learners);
        if (voters < 0 || learners < 0 || idsEnd + sizeof(long) > bytes.Length)
        {
            throw new RaftLogCorruptionException(path, 12, $"{voters} voters and {learners} learners do not fit in {bytes.Length} bytes");
        }

        var ids = new long[voters + learners];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(HeaderSize + (8 * i)));
        }

        var dataLength = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)idsEnd));
        var dataStart = (int)idsEnd + sizeof(long);
        if (dataLength != bytes.Length - dataStart)
        {
            throw new RaftLogCorruptionException(path, idsEnd, $"data length {dataLength} does not match the file size {bytes.Length}");
        }

        ConfState confState;
        try
        {
            confState = new ConfState(ids[..voters], ids[voters..]);
        }
        catch (ArgumentException ex)
        {
            throw new RaftLogCorruptionException(path, HeaderSize, "invalid membership: " + ex.Message);
        }

        var metadata = new SnapshotMetadata(index, term, confState);
        return (new Snapshot(metadata, bytes.AsMemory(dataStart)), generation);
    }
}
