using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Streams.Raft.Storage;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>
/// The hard state (term, vote, commit) in a file of two CRC'd slots, 4 KiB apart so that no
/// write to one can tear the other (FORMAT.md, "Hard state"). Each write goes to the slot that
/// does not hold the last state made durable, with a sequence number one higher; reading takes
/// the intact slot with the higher sequence. A torn write therefore loses only itself.
/// </summary>
internal sealed class HardStateFile : IDisposable
{
    /// <summary>The file's name in the shard directory.</summary>
    public const string FileName = "hardstate";

    /// <summary>Where a new file is prepared before its rename; a leftover is deleted on open.</summary>
    public const string TempFileName = "hardstate.tmp";

    /// <summary>Bytes of a slot.</summary>
    public const int SlotSize = 48;

    /// <summary>Offset of slot 1 (slot 0 is at 0): a page apart.</summary>
    public const int SlotStride = 4096;

    private const uint Magic = 0x54534853; // "SHST" on disk
    private const ushort Version = 1;
    private const int CrcOffset = 44;

    // A slot that is all zeros was never written (slot 1 of a new file): not worth a warning.
    private const string NeverWritten = "never written";

    private readonly SafeFileHandle _handle;
    private readonly bool _fsync;
    private readonly byte[] _slot = new byte[SlotSize];

    // The slot holding the last state written as durable: never overwritten until another is.
    private int _durableSlot;
    private long _sequence;

    private HardStateFile(string path, SafeFileHandle handle, bool fsync, HardState state, int slot, long sequence)
    {
        FilePath = path;
        _handle = handle;
        _fsync = fsync;
        State = state;
        _durableSlot = slot;
        _sequence = sequence;
    }

    /// <summary>Full path of the file.</summary>
    public string FilePath { get; }

    /// <summary>The last state written.</summary>
    public HardState State { get; private set; }

    /// <summary>
    /// Opens the file, or creates it holding <see cref="HardState.Empty"/> (temp file, rename,
    /// directory fsync) when it does not exist and <paramref name="dataExists"/> is false.
    /// </summary>
    /// <param name="directory">The shard directory.</param>
    /// <param name="fsync">False under DurabilityPolicy.Never: nothing is fsynced.</param>
    /// <param name="dataExists">The directory holds entries or a snapshot, so the file must exist too.</param>
    /// <param name="logger">Where a damaged slot is reported.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="StorageCorruptionException">No slot is intact, or the file is missing beside existing data.</exception>
    public static async Task<HardStateFile> OpenAsync(string directory, bool fsync, bool dataExists, ILogger logger, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, FileName);
        var temp = Path.Combine(directory, TempFileName);
        if (File.Exists(temp))
        {
            File.Delete(temp);
            ShardRaftLogLog.LeftoverDeleted(logger, temp);
        }

        if (!File.Exists(path))
        {
            if (dataExists)
            {
                throw new StorageCorruptionException(path, 0, "the hard-state file is missing while the directory holds entries or a snapshot (the term and vote would be forgotten); restore it, or delete the whole shard directory to rebuild this replica from the leader");
            }

            await CreateAsync(directory, path, temp, fsync);
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var bytes = new byte[SlotStride + SlotSize];
            var read = 0;
            while (read < bytes.Length)
            {
                var n = await RandomAccess.ReadAsync(handle, bytes.AsMemory(read), read, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            var first = TryReadSlot(bytes.AsSpan(0, Math.Min(read, SlotSize)), out var firstState, out var firstSequence);
            var second = TryReadSlot(bytes.AsSpan(SlotStride, Math.Max(0, read - SlotStride)), out var secondState, out var secondSequence);
            if (first is not null && second is not null)
            {
                throw new StorageCorruptionException(path, 0, $"neither hard-state slot is intact (slot 0: {first}; slot 1: {second})");
            }

            var slot = first is null && (second is not null || firstSequence > secondSequence) ? 0 : 1;
            var damaged = slot == 0 ? second : first;
            if (damaged is not null && damaged != NeverWritten)
            {
                ShardRaftLogLog.HardStateSlotDamaged(logger, path, 1 - slot, damaged, slot, slot == 0 ? firstSequence : secondSequence);
            }

            if (fsync)
            {
                // What was read may be a write that was never fsynced (a commit index): make it
                // durable before the other slot is overwritten, so a torn write of that one
                // cannot fall back to an older state.
                RandomAccess.FlushToDisk(handle);
            }

            return slot == 0
                ? new HardStateFile(path, handle, fsync, firstState, 0, firstSequence)
                : new HardStateFile(path, handle, fsync, secondState, 1, secondSequence);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="state"/> to the slot that does not hold the last durable state.
    /// With <paramref name="durable"/> it is fsynced (unless nothing is, under Never) and becomes
    /// the durable slot; without, the next durable write goes over it, so a crash loses at most
    /// this write and the durable slot still holds the state before it.
    /// </summary>
    public async ValueTask WriteAsync(HardState state, bool durable)
    {
        var slot = 1 - _durableSlot;
        var sequence = _sequence + 1;
        Encode(_slot, state, sequence);
        await RandomAccess.WriteAsync(_handle, _slot, slot * (long)SlotStride, CancellationToken.None);
        if (durable)
        {
            if (_fsync)
            {
                RandomAccess.FlushToDisk(_handle);
            }

            _durableSlot = slot;
        }

        _sequence = sequence;
        State = state;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();

    private static async Task CreateAsync(string directory, string path, string temp, bool fsync)
    {
        var bytes = new byte[SlotStride + SlotSize];
        Encode(bytes, HardState.Empty, 1);
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await RandomAccess.WriteAsync(handle, bytes, 0, CancellationToken.None);
            if (fsync)
            {
                RandomAccess.FlushToDisk(handle);
            }
        }

        // The rename makes the file appear whole: it never exists without an intact slot.
        File.Move(temp, path);
        if (fsync)
        {
            DirectoryFlush.Flush(directory);
        }
    }

    private static void Encode(Span<byte> slot, HardState state, long sequence)
    {
        var s = slot[..SlotSize];
        s.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(s[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(s[16..], state.Term);
        BinaryPrimitives.WriteInt64LittleEndian(s[24..], state.Vote);
        BinaryPrimitives.WriteInt64LittleEndian(s[32..], state.Commit);
        BinaryPrimitives.WriteUInt32LittleEndian(s[CrcOffset..], Checksum.Crc32C(s[..CrcOffset]));
    }

    /// <summary>Null when the slot is intact, else what is wrong with it.</summary>
    private static string? TryReadSlot(ReadOnlySpan<byte> slot, out HardState state, out long sequence)
    {
        state = default;
        sequence = 0;
        if (slot.Length < SlotSize)
        {
            return slot.Length == 0 ? NeverWritten : $"the file ends {slot.Length} bytes into it";
        }

        slot = slot[..SlotSize];
        if (!slot.ContainsAnyExcept((byte)0))
        {
            return NeverWritten;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(slot) != Magic || BinaryPrimitives.ReadUInt16LittleEndian(slot[4..]) != Version)
        {
            return "bad magic or version";
        }

        var crc = Checksum.Crc32C(slot[..CrcOffset]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(slot[CrcOffset..]) != crc)
        {
            return string.Create(CultureInfo.InvariantCulture, $"CRC-32C is 0x{crc:x8}, the slot says 0x{BinaryPrimitives.ReadUInt32LittleEndian(slot[CrcOffset..]):x8}");
        }

        sequence = BinaryPrimitives.ReadInt64LittleEndian(slot[8..]);
        state = new HardState(
            BinaryPrimitives.ReadInt64LittleEndian(slot[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[32..]));
        return null;
    }
}
