using System.Buffers;
using System.Globalization;
using Streams.Storage.Batches;
using Streams.Storage.Segments;

namespace Streams.Server.Shards.Log;

/// <summary>
/// Rebuilds the term map on open from the batch headers in the segment files, without reading
/// the batches: a segment file is whole batches back to back (Segments/FORMAT.md), each header
/// says its length, so the scan reads blocks and hops from header to header. The segment log
/// has just recovered the files (torn tail cut), and nothing writes while the log opens.
/// </summary>
internal static class SegmentTermScanner
{
    // Large enough that small batches cost one read per many headers.
    private const int BlockBytes = 256 * 1024;

    /// <summary>Records the term of every batch from <paramref name="fromIndex"/> to the segment log's last index.</summary>
    /// <exception cref="StorageCorruptionException">A header does not carry the index its position says.</exception>
    public static async Task ScanAsync(SegmentLog segments, long fromIndex, TermRuns terms, CancellationToken cancellationToken)
    {
        terms.Reset(fromIndex);
        if (fromIndex > segments.LastIndex)
        {
            return;
        }

        var block = ArrayPool<byte>.Shared.Rent(BlockBytes);
        try
        {
            foreach (var segment in segments.Segments)
            {
                if (segment.LastIndex < fromIndex || segment.LastIndex < segment.BaseIndex)
                {
                    continue;
                }

                await ScanSegmentAsync(segment, fromIndex, terms, block, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    private static async Task ScanSegmentAsync(SegmentInfo segment, long fromIndex, TermRuns terms, byte[] block, CancellationToken cancellationToken)
    {
        using var handle = File.OpenHandle(segment.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long position = 0;
        var index = segment.BaseIndex;
        while (index <= segment.LastIndex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = (int)Math.Min(block.Length, segment.SizeBytes - position);
            var read = 0;
            while (read < length)
            {
                var n = await RandomAccess.ReadAsync(handle, block.AsMemory(read, length - read), position + read, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            // Every whole header in the block; a batch longer than the rest of it moves the next
            // read to where the following header starts.
            var offset = 0;
            while (index <= segment.LastIndex && read - offset >= BatchHeader.Size)
            {
                var header = BatchHeader.Read(block.AsSpan(offset));
                if (header.Index != index || header.Length < BatchHeader.Size || header.Length > BatchHeader.MaxLength)
                {
                    throw new StorageCorruptionException(segment.FilePath, position + offset, string.Create(CultureInfo.InvariantCulture, $"the batch header says index {header.Index} and length {header.Length} where index {index} belongs"));
                }

                if (index >= fromIndex)
                {
                    terms.Append(index, header.Term);
                }

                index++;
                offset += header.Length;
                if (offset > read)
                {
                    break;
                }
            }

            if (offset == 0)
            {
                throw new StorageCorruptionException(segment.FilePath, position, string.Create(CultureInfo.InvariantCulture, $"the file ends before the header of index {index}"));
            }

            position += offset;
        }
    }
}
