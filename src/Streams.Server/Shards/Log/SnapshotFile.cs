using System.Buffers.Binary;
using System.Globalization;
using Streams.Raft.Membership;
using Streams.Raft.Storage;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>
/// The latest snapshot, metadata and data, in one file (FORMAT.md, "Snapshot"). A new one is
/// written to <see cref="TempFileName"/>, fsynced, renamed over <see cref="FileName"/> and the
/// directory fsynced: a crash leaves the old snapshot or the new one, whole.
/// </summary>
internal static class SnapshotFile
{
    /// <summary>The file's name in the shard directory.</summary>
    public const string FileName = "snapshot";

    /// <summary>Where a new snapshot is written before its rename; a leftover is deleted on open.</summary>
    public const string TempFileName = "snapshot.tmp";

    private const int HeaderSize = 40;
    private const uint Magic = 0x4E534853; // "SHSN" on disk
    private const ushort Version = 1;
    private const ushort RestartsLogFlag = 1;
    private const int CrcStart = 12;

    /// <summary>Makes <paramref name="snapshot"/> the directory's snapshot; the rename is the commit point.</summary>
    /// <param name="directory">The shard directory.</param>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="restartsLog">It comes from the leader and replaces the log (see <see cref="StoredSnapshot.RestartsLog"/>).</param>
    /// <param name="fsync">False under DurabilityPolicy.Never.</param>
    public static async ValueTask WriteAsync(string directory, Snapshot snapshot, bool restartsLog, bool fsync)
    {
        var metadata = snapshot.Metadata;
        var members = metadata.ConfState.Voters.Count + metadata.ConfState.Learners.Count;
        var head = new byte[HeaderSize + (8 * members) + sizeof(long)];
        var span = head.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], restartsLog ? RestartsLogFlag : (ushort)0);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], metadata.Index);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], metadata.Term);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], metadata.ConfState.Voters.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[36..], metadata.ConfState.Learners.Count);
        var offset = HeaderSize;
        foreach (var id in metadata.ConfState.Members)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[offset..], id);
            offset += 8;
        }

        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], snapshot.Data.Length);
        var crc = ~Checksum.Append(Checksum.Append(uint.MaxValue, span[CrcStart..]), snapshot.Data.Span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], crc);

        var temp = Path.Combine(directory, TempFileName);
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await RandomAccess.WriteAsync(handle, [head, snapshot.Data], 0, CancellationToken.None);
            if (fsync)
            {
                RandomAccess.FlushToDisk(handle);
            }
        }

        File.Move(temp, Path.Combine(directory, FileName), overwrite: true);
        if (fsync)
        {
            DirectoryFlush.Flush(directory);
        }
    }

    /// <summary>Reads the directory's snapshot (null when there is none), deleting a leftover temp file first.</summary>
    /// <exception cref="StorageCorruptionException">The file is damaged: it was fsynced before its rename, so this is not a torn write.</exception>
    public static async Task<StoredSnapshot?> ReadAsync(string directory, ILogger logger, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(directory, TempFileName);
        if (File.Exists(temp))
        {
            File.Delete(temp);
            ShardRaftLogLog.LeftoverDeleted(logger, temp);
        }

        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        if (bytes.Length < HeaderSize + sizeof(long)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)) != Version)
        {
            throw new StorageCorruptionException(path, 0, "not a shard snapshot file (bad magic, version or size)");
        }

        var crc = Checksum.Crc32C(bytes.AsSpan(CrcStart));
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) != crc)
        {
            throw new StorageCorruptionException(path, 8, Invariant($"CRC-32C is 0x{crc:x8}, the file says 0x{BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)):x8}"));
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6));
        var index = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16));
        var term = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24));
        var voters = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(32));
        var learners = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(36));
        var membersEnd = HeaderSize + (8L * voters) + (8L * learners);
        if (voters < 0 || learners < 0 || membersEnd + sizeof(long) > bytes.Length)
        {
            throw new StorageCorruptionException(path, 32, Invariant($"{voters} voters and {learners} learners do not fit in {bytes.Length} bytes"));
        }

        var ids = new long[voters + learners];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(HeaderSize + (8 * i)));
        }

        var dataLength = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)membersEnd));
        var dataStart = (int)membersEnd + sizeof(long);
        if (dataLength != bytes.Length - dataStart || (flags & ~RestartsLogFlag) != 0 || index < 0 || term < 0)
        {
            throw new StorageCorruptionException(path, membersEnd, Invariant($"data length {dataLength}, flags {flags}, index {index} or term {term} do not add up for a file of {bytes.Length} bytes"));
        }

        ConfState confState;
        try
        {
            confState = new ConfState(ids[..voters], ids[voters..]);
        }
        catch (ArgumentException e)
        {
            throw new StorageCorruptionException(path, HeaderSize, "the membership is not valid: " + e.Message);
        }

        var snapshot = new Snapshot(new SnapshotMetadata(index, term, confState), bytes.AsMemory(dataStart));
        return new StoredSnapshot(snapshot, (flags & RestartsLogFlag) != 0);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
