namespace Streams.Storage.Batches;

/// <summary>
/// A whole batch opened for reading: its validated header and its record section, decompressed
/// when the batch is LZ4. Enumerate it with <c>foreach</c> for its records (a
/// <see cref="RecordReader"/>), or take <see cref="ControlPayload"/> of a control batch. Nothing
/// is decoded from a batch that fails <see cref="BatchHeader.Validate"/>, and the record section is
/// checked whole when opened, so enumerating a batch that opened does not fail.
/// </summary>
public readonly ref struct BatchRecords
{
    private readonly ReadOnlySpan<byte> _section;

    private BatchRecords(BatchHeader header, ReadOnlySpan<byte> section)
    {
        Header = header;
        _section = section;
    }

    /// <summary>The batch's header.</summary>
    public BatchHeader Header { get; }

    /// <summary>Whether this is a control batch (<see cref="BatchAttributes.Control"/>).</summary>
    public bool IsControl => (Header.Attributes & BatchAttributes.Control) != 0;

    /// <summary>Records in the batch.</summary>
    public int Count => Header.RecordCount;

    /// <summary>The record section (see <see cref="RecordSection"/>), decompressed.</summary>
    public ReadOnlySpan<byte> RecordSection => _section;

    /// <summary>The payload of a control batch.</summary>
    /// <exception cref="InvalidOperationException">This is a batch of records.</exception>
    public ReadOnlySpan<byte> ControlPayload => IsControl
        ? _section
        : throw new InvalidOperationException($"Batch {Header.Index} holds records, not a control payload.");

    /// <summary>Enumerates the records (none in a control batch).</summary>
    public RecordReader GetEnumerator() =>
        new(IsControl ? default : _section, Header.RecordCount, Header.FirstTimestampMs, Header.Index);

    /// <summary>
    /// Validates a whole batch and opens it, decompressing an LZ4 record section into
    /// <paramref name="decompressionBuffer"/>.
    /// </summary>
    /// <param name="batch">Exactly one batch: its header's Length bytes.</param>
    /// <param name="decompressionBuffer">
    /// At least the header's <see cref="BatchHeader.RecordsLength"/> bytes when its codec is LZ4
    /// (never more than <see cref="BatchHeader.MaxLength"/>); unused otherwise. The records read
    /// from it are valid while it is not overwritten.
    /// </param>
    /// <exception cref="InvalidDataException">The batch fails validation or its records are malformed.</exception>
    /// <exception cref="ArgumentException">The decompression buffer is too small.</exception>
    public static BatchRecords Open(ReadOnlySpan<byte> batch, Span<byte> decompressionBuffer)
    {
        var header = ValidateHeader(batch);
        if (header.Codec == BatchCodec.Lz4 && decompressionBuffer.Length < header.RecordsLength)
        {
            throw new ArgumentException(
                $"Batch {header.Index} decompresses to {header.RecordsLength} bytes; the buffer has {decompressionBuffer.Length}.",
                nameof(decompressionBuffer));
        }

        return OpenValidated(batch, header, decompressionBuffer);
    }

    /// <summary>
    /// Checks a batch with <see cref="BatchHeader.Validate"/> and the header's own consistency;
    /// returns the header. Reads nothing from an unsound batch.
    /// </summary>
    internal static BatchHeader ValidateHeader(ReadOnlySpan<byte> batch)
    {
        var error = BatchHeader.Validate(batch);
        if (error is not null)
        {
            throw new InvalidDataException($"The batch fails validation and is not decoded: {error}.");
        }

        var header = BatchHeader.Read(batch);
        if (header.RecordsLength > BatchHeader.MaxLength - BatchHeader.Size)
        {
            throw new InvalidDataException(
                $"Batch {header.Index} says its records take {header.RecordsLength} bytes, more than a batch holds ({BatchHeader.MaxLength - BatchHeader.Size}).");
        }

        if ((header.Attributes & BatchAttributes.Control) != 0 && header.RecordCount != 0)
        {
            throw new InvalidDataException($"Control batch {header.Index} says it holds {header.RecordCount} records; a control batch holds none.");
        }

        if (header.Codec == BatchCodec.None && header.RecordsLength != header.Length - BatchHeader.Size)
        {
            throw new InvalidDataException(
                $"Batch {header.Index} is not compressed but says its records take {header.RecordsLength} bytes; it holds {header.Length - BatchHeader.Size}.");
        }

        return header;
    }

    /// <summary>Opens a batch that <see cref="ValidateHeader"/> accepted.</summary>
    internal static BatchRecords OpenValidated(ReadOnlySpan<byte> batch, BatchHeader header, Span<byte> decompressionBuffer)
    {
        ReadOnlySpan<byte> section = batch[BatchHeader.Size..];
        if (header.Codec == BatchCodec.Lz4)
        {
            var destination = decompressionBuffer[..header.RecordsLength];
            var decompressed = Lz4Library.Decompress(section, destination);
            if (decompressed != header.RecordsLength)
            {
                throw new InvalidDataException(decompressed < 0
                    ? $"The LZ4 block of batch {header.Index} is malformed or decompresses to more than the {header.RecordsLength} bytes its header says."
                    : $"The LZ4 block of batch {header.Index} decompresses to {decompressed} bytes; its header says {header.RecordsLength}.");
            }

            section = destination;
        }

        var records = new BatchRecords(header, section);
        if (!records.IsControl)
        {
            records.Check();
        }

        return records;
    }

    // Walks every record once so that a malformed section fails here rather than halfway through
    // a reader's loop, and checks the header's timestamps against the records.
    private void Check()
    {
        var max = long.MinValue;
        var first = true;
        foreach (var record in this)
        {
            if (first && record.ArrivalTimestampMs != Header.FirstTimestampMs)
            {
                throw new InvalidDataException(
                    $"Batch {Header.Index} says its first record arrived at {Header.FirstTimestampMs}; the record says {record.ArrivalTimestampMs}.");
            }

            first = false;
            max = Math.Max(max, record.ArrivalTimestampMs);
        }

        if (Header.RecordCount > 0 && max != Header.MaxTimestampMs)
        {
            throw new InvalidDataException(
                $"Batch {Header.Index} says its latest record arrived at {Header.MaxTimestampMs}; the latest record arrived at {max}.");
        }
    }
}
