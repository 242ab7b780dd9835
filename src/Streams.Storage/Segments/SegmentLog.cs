using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Storage.Batches;
using Microsoft.Win32.SafeHandles;
using Streams.Storage.Segments.Files;
using Streams.Storage.Segments.Recovery;
using Streams.Storage.Segments.Waiting;

namespace Streams.Storage.Segments;

/// <summary>
/// A shard's log: batches (Raft entries) with consecutive indexes, stored in segment files
/// <c>&lt;base-index:D20&gt;.log</c> with a sparse offset index and a sparse time index beside each.
/// <para>
/// Watermarks, in this order: <see cref="FirstIndex"/> - 1 ≤ <see cref="DurableIndex"/> ≤
/// <see cref="LastIndex"/>. Batches [FirstIndex, LastIndex] can be read; those ≤ DurableIndex
/// survive a crash.
/// </para>
/// <para>
/// Concurrency: Append, TruncateAfter, DeleteBefore and ApplyRetention are serialized by a write
/// lock; Read, FindIndexByTimestamp and the waits may run on any number of threads while they go
/// on. A read never sees a batch that is not wholly written, and a read inside a segment being
/// deleted finishes (segment handles are reference-counted). TruncateAfter, which rewrites the
/// end of the log, waits for running reads and holds new ones back while it runs.
/// </para>
/// </summary>
public sealed partial class SegmentLog : IAsyncDisposable
{
    private readonly SegmentLogOptions _options;
    private readonly string _directory;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SafeFileHandle _directoryLock;
    private readonly Lock _writeLock = new();

    // Readers hold it shared; whatever moves LastIndex other than forward (truncation, a restart
    // of an empty log at another index) holds it exclusively.
    private readonly ReaderWriterLockSlim _rangeLock = new(LockRecursionPolicy.NoRecursion);
    private readonly WatermarkWaiters _appendWaiters;
    private readonly WatermarkWaiters _durableWaiters;
    private Segment[] _segments;
    private long _lastIndex;
    private long _lastTerm;
    private long _durableIndex;
    private long _rangeEpoch;
    private int _disposed;
    private IOException? _fault;

    private SegmentLog(SegmentLogOptions options, string directory, TimeProvider timeProvider, ILogger logger, SafeFileHandle directoryLock, Segment[] segments)
    {
        _options = options;
        _directory = directory;
        _timeProvider = timeProvider;
        _logger = logger;
        _directoryLock = directoryLock;
        _segments = segments;
        _lastIndex = segments.Length == 0 ? 0 : segments[^1].LastIndex;
        _lastTerm = segments.Length == 0 ? 0 : segments[^1].LastTerm;
        _durableIndex = _lastIndex;
        _appendWaiters = new WatermarkWaiters(() => Volatile.Read(ref _lastIndex));
        _durableWaiters = new WatermarkWaiters(() => DurableIndex);
        if (options.Durability == DurabilityPolicy.Always)
        {
            _flushRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
            {
                FullMode = BoundedChannelFullMode.DropWrite,
                SingleReader = true,
            });
        }
    }

    /// <summary>The first index held; <see cref="LastIndex"/> + 1 when the log holds no batch.</summary>
    public long FirstIndex
    {
        get
        {
            var segments = Volatile.Read(ref _segments);
            return segments.Length == 0 ? LastIndex + 1 : segments[0].BaseIndex;
        }
    }

    /// <summary>The index of the last batch appended; 0 when nothing was ever appended.</summary>
    public long LastIndex => Volatile.Read(ref _lastIndex);

    /// <summary>The term of the last batch; 0 when the log holds no batch.</summary>
    public long LastTerm => Volatile.Read(ref _lastTerm);

    /// <summary>The segments, oldest first; the last is the active one that takes appends.</summary>
    public IReadOnlyList<SegmentInfo> Segments
    {
        get
        {
            var segments = Volatile.Read(ref _segments);
            var infos = new SegmentInfo[segments.Length];
            for (var i = 0; i < segments.Length; i++)
            {
                infos[i] = segments[i].Info();
            }

            return infos;
        }
    }

    /// <summary>The options the log was opened with.</summary>
    public SegmentLogOptions Options => _options;

    /// <summary>
    /// Opens the log in <see cref="SegmentLogOptions.Directory"/>, creating the directory when it
    /// is missing and recovering it otherwise: a torn tail is cut, missing or damaged index files
    /// are rebuilt, and damage that cannot be a torn write is a <see cref="StorageCorruptionException"/>
    /// naming the file and position. One log per directory: a second open fails while the first
    /// is open.
    /// </summary>
    /// <param name="options">The settings; validated first.</param>
    /// <param name="timeProvider">The clock for rolling by age, retention and the flush interval; the system clock by default.</param>
    /// <param name="logger">Where recovery, rolling and deletion are logged.</param>
    /// <param name="cancellationToken">Stops recovery between segments.</param>
    public static async Task<SegmentLog> OpenAsync(SegmentLogOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Codec == BatchCodec.Lz4)
        {
            // Fail at startup, naming the package, rather than at the first compressed batch.
            Lz4Library.EnsureAvailable();
        }

        var clock = timeProvider ?? TimeProvider.System;
        var log = logger ?? NullLogger.Instance;
        var opened = await Task.Run(() => Open(options, clock, log, cancellationToken), cancellationToken).ConfigureAwait(false);
        opened.StartFlusher();
        SegmentLogLog.Opened(log, opened._directory, opened._segments.Length, opened.FirstIndex, opened.LastIndex, options.Durability);
        return opened;
    }

    /// <summary>Flushes what was appended to disk (under every policy), stops the flusher and closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_writeLock)
        {
            if (_disposed != 0)
            {
                return;
            }

            Volatile.Write(ref _disposed, 1);
        }

        await StopFlusherAsync().ConfigureAwait(false);
        IOException? error = null;
        var segments = Volatile.Read(ref _segments);
        if (_fault is null && segments.Length > 0)
        {
            try
            {
                RandomAccess.FlushToDisk(segments[^1].Handle);
                Volatile.Write(ref _durableIndex, Volatile.Read(ref _lastIndex));
            }
            catch (IOException e)
            {
                error = e;
            }
        }

        _durableWaiters.Advance(DurableIndex);
        var disposed = new ObjectDisposedException(nameof(SegmentLog), "The segment log was disposed.");
        _durableWaiters.Fail(disposed);
        _appendWaiters.Fail(disposed);

        _rangeLock.EnterWriteLock();
        try
        {
            foreach (var segment in segments)
            {
                segment.ReleaseOwner();
            }
        }
        finally
        {
            _rangeLock.ExitWriteLock();
        }

        _directoryLock.Dispose();
        if (error is not null)
        {
            throw error;
        }
    }

    private static SegmentLog Open(SegmentLogOptions options, TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(options.Directory);
        Directory.CreateDirectory(directory);
        var directoryLock = LockDirectory(directory);
        try
        {
            var segments = SegmentRecovery.Recover(directory, options, timeProvider.GetUtcNow(), logger, cancellationToken);
            return new SegmentLog(options, directory, timeProvider, logger, directoryLock, segments);
        }
        catch (Exception)
        {
            directoryLock.Dispose();
            throw;
        }
    }

    private static SafeFileHandle LockDirectory(string directory)
    {
        var path = Path.Combine(directory, SegmentFileNames.LockFileName);
        try
        {
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The log directory {directory} is already open (by this process or another): only one SegmentLog may use it at a time. {e.Message}", e);
        }
    }

    private static int FindSegment(Segment[] segments, long index)
    {
        int low = 0, high = segments.Length - 1;
        while (low < high)
        {
            var middle = (low + high + 1) >>> 1;
            if (segments[middle].BaseIndex <= index)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Refuses writes after dispose and after a failed fsync.</summary>
    private void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        var fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            throw new IOException(fault.Message, fault);
        }
    }
}
