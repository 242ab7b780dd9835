using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Streams.Server.Firehose.Output;

/// <summary>
/// Accumulates the records of one shard, in order, into one object's bytes. Appending a record
/// allocates nothing: bytes go into pooled chunks, JSON lines are composed by one reused
/// <see cref="Utf8JsonWriter"/>. The same records appended in the same order give the same bytes,
/// compressed or not, so an object rewritten after a crash is identical to the first attempt.
/// Not thread-safe: one worker owns a builder.
/// </summary>
public sealed class DeliveryObjectBuilder : IDisposable
{
    private static readonly JsonEncodedText _sequenceNumberName = JsonEncodedText.Encode("sequence_number");
    private static readonly JsonEncodedText _partitionKeyName = JsonEncodedText.Encode("partition_key");
    private static readonly JsonEncodedText _arrivalName = JsonEncodedText.Encode("approximate_arrival_timestamp");
    private static readonly JsonEncodedText _dataName = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText _errorCodeName = JsonEncodedText.Encode("error_code");
    private static readonly JsonEncodedText _errorMessageName = JsonEncodedText.Encode("error_message");

    // Objects are data files, never embedded in HTML: keep non-ASCII partition keys readable
    // instead of \u-escaping them (the JSON stays valid either way).
    private static readonly JsonWriterOptions _jsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Where one JSON line is composed before it is copied out; grows to the largest line.
    private const int JsonLineInitialBytes = 4096;

    // Longest text of an arrival time: "yyyy-MM-ddTHH:mm:ss.fffZ" is 24 bytes.
    private const int ArrivalTextBytes = 32;

    // A gzip member of no data (RFC 1952: header without a name or time, an empty final fixed
    // Huffman block, CRC-32 0, size 0). GZipStream writes nothing at all when given no bytes,
    // which is not a gzip file.
    private static ReadOnlySpan<byte> EmptyGzipMember =>
    [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
        0x03, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    private readonly bool _forErrors;
    private readonly byte[] _delimiter;
    private readonly PooledChunks _chunks = new();
    private readonly PooledChunksStream _chunksStream;
    private readonly ArrayBufferWriter<byte>? _jsonLine;
    private readonly Utf8JsonWriter? _json;
    private GZipStream? _gzip;
    private long _gzipInputBytes;
    private DeliveryObjectContent _content;
    private bool _finished;
    private bool _disposed;

    /// <summary>A builder of objects in <paramref name="format"/>.</summary>
    /// <param name="format">How records are written; its delimiter is copied.</param>
    public DeliveryObjectBuilder(ObjectFormat format)
        : this(format, forErrors: false)
    {
    }

    private DeliveryObjectBuilder(ObjectFormat format, bool forErrors)
    {
        ArgumentNullException.ThrowIfNull(format);
        Format = format;
        _forErrors = forErrors;
        _delimiter = format.Delimiter.ToArray();
        _chunksStream = new PooledChunksStream(_chunks);
        if (format.Records == RecordFormat.JsonLines)
        {
            _jsonLine = new ArrayBufferWriter<byte>(JsonLineInitialBytes);
            _json = new Utf8JsonWriter(_jsonLine, _jsonOptions);
        }
    }

    /// <summary>How this builder writes records.</summary>
    public ObjectFormat Format { get; }

    /// <summary>True for a builder of the error output (<see cref="ForErrors"/>), which takes <see cref="AppendFailed"/>.</summary>
    public bool IsErrorOutput => _forErrors;

    /// <summary>Records appended since the last reset.</summary>
    public int RecordCount { get; private set; }

    /// <summary>The sum of the appended records' data lengths: what buffering limits count.</summary>
    public long DataBytes { get; private set; }

    /// <summary>The first appended record's sequence number, or null when empty.</summary>
    public string? FirstSequenceNumber { get; private set; }

    /// <summary>The last appended record's sequence number, or null when empty.</summary>
    public string? LastSequenceNumber { get; private set; }

    /// <summary>The first appended record's arrival time (the object's key is dated by it), or null when empty.</summary>
    public DateTimeOffset? FirstArrival { get; private set; }

    /// <summary>
    /// A builder for the error output: JSON lines that also carry error_code and error_message,
    /// one per <see cref="AppendFailed"/>.
    /// </summary>
    /// <param name="compression">How the error objects are compressed.</param>
    public static DeliveryObjectBuilder ForErrors(ObjectCompression compression) =>
        new(new ObjectFormat(RecordFormat.JsonLines, "\n"u8.ToArray(), compression), forErrors: true);

    /// <summary>
    /// Whether a record with <paramref name="data"/> can be written so that it reads back as
    /// itself. False only for raw output with a delimiter when splitting the object at the first
    /// delimiter after the record's start would not end exactly at the record's end: the data
    /// holds the delimiter, or (for a delimiter that overlaps itself, like "\n\n") the data ends
    /// with the delimiter's beginning. Such a record belongs in the error output.
    /// </summary>
    /// <param name="data">The record's data.</param>
    public bool CanFrame(ReadOnlySpan<byte> data) =>
        Format.Records != RecordFormat.Raw || DelimiterFraming.CanFrame(data, _delimiter);

    /// <summary>Appends a record: raw data and the delimiter, or one JSON line.</summary>
    /// <param name="sequenceNumber">The record's sequence number.</param>
    /// <param name="partitionKey">The record's partition key.</param>
    /// <param name="approximateArrival">When the record arrived.</param>
    /// <param name="data">The record's data.</param>
    /// <exception cref="ArgumentException">The record cannot be framed (<see cref="CanFrame"/> is false).</exception>
    /// <exception cref="InvalidOperationException">The object is finished, or this is an error-output builder.</exception>
    public void Append(string sequenceNumber, string partitionKey, DateTimeOffset approximateArrival, ReadOnlySpan<byte> data)
    {
        ThrowIfNotAppendable(errorOutput: false);
        ArgumentNullException.ThrowIfNull(sequenceNumber);
        ArgumentNullException.ThrowIfNull(partitionKey);
        if (Format.Records == RecordFormat.Raw)
        {
            // Always checked: a record that breaks framing would silently corrupt every reader's view of the object.
            if (!DelimiterFraming.CanFrame(data, _delimiter))
            {
                throw new ArgumentException($"Record {sequenceNumber} cannot be framed: its data holds the delimiter (check CanFrame and send it to the error output).", nameof(data));
            }

            Emit(data);
            Emit(_delimiter);
        }
        else
        {
            WriteJsonLine(sequenceNumber, partitionKey, approximateArrival, data, null, null);
        }

        Count(sequenceNumber, approximateArrival, data.Length);
    }

    /// <summary>Appends a record that could not be delivered as a JSON line with its error code and message (error output only).</summary>
    /// <param name="sequenceNumber">The record's sequence number.</param>
    /// <param name="partitionKey">The record's partition key.</param>
    /// <param name="approximateArrival">When the record arrived.</param>
    /// <param name="data">The record's data.</param>
    /// <param name="errorCode">Why, as a stable name (also the error output's folder).</param>
    /// <param name="errorMessage">Why, for a person.</param>
    /// <exception cref="InvalidOperationException">The object is finished, or this is not an error-output builder.</exception>
    public void AppendFailed(string sequenceNumber, string partitionKey, DateTimeOffset approximateArrival, ReadOnlySpan<byte> data, string errorCode, string errorMessage)
    {
        ThrowIfNotAppendable(errorOutput: true);
        ArgumentNullException.ThrowIfNull(sequenceNumber);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(errorCode);
        ArgumentNullException.ThrowIfNull(errorMessage);
        WriteJsonLine(sequenceNumber, partitionKey, approximateArrival, data, errorCode, errorMessage);
        Count(sequenceNumber, approximateArrival, data.Length);
    }

    /// <summary>
    /// Completes the object (ends the gzip member when compressed) and returns its bytes, which
    /// stay valid until <see cref="Reset"/> or <see cref="Dispose"/>. Calling it again returns the
    /// same content; appending throws until <see cref="Reset"/>.
    /// </summary>
    public DeliveryObjectContent Finish()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_finished)
        {
            if (Format.Compression == ObjectCompression.Gzip && _gzipInputBytes == 0)
            {
                DropGzip();
                _chunks.Reset();
                _chunks.Write(EmptyGzipMember);
            }
            else if (Format.Compression == ObjectCompression.Gzip)
            {
                // Disposing the gzip stream writes the last deflate block and the gzip trailer.
                Gzip().Dispose();
                _gzip = null;
            }

            _finished = true;
            _content = new DeliveryObjectContent(_chunks.ToSequence());
        }

        return _content;
    }

    /// <summary>Empties the builder for the next object and returns its chunks to the pool.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DropGzip();
        _gzipInputBytes = 0;
        _chunks.Reset();
        _json?.Reset();
        _jsonLine?.ResetWrittenCount();
        _content = default;
        _finished = false;
        RecordCount = 0;
        DataBytes = 0;
        FirstSequenceNumber = null;
        LastSequenceNumber = null;
        FirstArrival = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        DropGzip();
        _json?.Dispose();
        _chunks.Dispose();
        _chunksStream.Dispose();
        _content = default;
    }

    private void WriteJsonLine(string sequenceNumber, string partitionKey, DateTimeOffset arrival, ReadOnlySpan<byte> data, string? errorCode, string? errorMessage)
    {
        var json = _json!;
        var line = _jsonLine!;
        Span<byte> arrivalText = stackalloc byte[ArrivalTextBytes];
        if (!arrival.UtcDateTime.TryFormat(arrivalText, out var arrivalLength, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"Could not format the arrival time {arrival:O}.");
        }

        try
        {
            json.WriteStartObject();
            json.WriteString(_sequenceNumberName, sequenceNumber);
            json.WriteString(_partitionKeyName, partitionKey);
            json.WriteString(_arrivalName, arrivalText[..arrivalLength]);
            json.WriteBase64String(_dataName, data);
            if (errorCode is not null)
            {
                json.WriteString(_errorCodeName, errorCode);
                json.WriteString(_errorMessageName, errorMessage);
            }

            json.WriteEndObject();
            json.Flush();
            line.GetSpan(1)[0] = (byte)'\n';
            line.Advance(1);
            Emit(line.WrittenSpan);
        }
        finally
        {
            // A line is copied out whole or not at all (a key the writer refuses leaves no trace).
            json.Reset();
            line.ResetWrittenCount();
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (Format.Compression == ObjectCompression.Gzip)
        {
            Gzip().Write(bytes);
            _gzipInputBytes += bytes.Length;
        }
        else
        {
            _chunks.Write(bytes);
        }
    }

    // Made on first use so that an idle builder holds no native deflate state.
    private GZipStream Gzip() => _gzip ??= new GZipStream(_chunksStream, CompressionLevel.Optimal, leaveOpen: true);

    private void DropGzip()
    {
        _gzip?.Dispose();
        _gzip = null;
    }

    private void Count(string sequenceNumber, DateTimeOffset arrival, int dataLength)
    {
        if (RecordCount == 0)
        {
            FirstSequenceNumber = sequenceNumber;
            FirstArrival = arrival;
        }

        LastSequenceNumber = sequenceNumber;
        RecordCount++;
        DataBytes += dataLength;
    }

    private void ThrowIfNotAppendable(bool errorOutput)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            throw new InvalidOperationException("The object is finished; Reset the builder before appending the next object's records.");
        }

        if (errorOutput != _forErrors)
        {
            throw new InvalidOperationException(_forErrors
                ? "This builder writes the error output: use AppendFailed."
                : "This builder writes delivered records: AppendFailed needs a builder from DeliveryObjectBuilder.ForErrors.");
        }
    }
}
