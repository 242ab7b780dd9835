using System.Diagnostics;
using System.Text.RegularExpressions;
using Amazon.S3;
using Amazon.S3.Model;

namespace Streams.Load.Firehose;

/// <summary>An object the first time a listing showed it, with the shard and sequence numbers its key names.</summary>
/// <param name="Key">The key.</param>
/// <param name="ShardId">The shard its key names.</param>
/// <param name="First">The first sequence number its key names.</param>
/// <param name="Last">The last sequence number its key names.</param>
/// <param name="Size">Its size.</param>
/// <param name="SeenAt">The <see cref="Stopwatch"/> timestamp when the listing that first showed it at its present size had come back.</param>
internal sealed record SeenObject(string Key, string ShardId, string First, string Last, long Size, long SeenAt);

/// <summary>
/// Lists a prefix of the bucket (ListObjectsV2, every page) over and over, a fixed pause apart,
/// and notes when each key appeared whole: when a record's object became visible to a reader of
/// the bucket, to within one listing. s3rver writes an object's file as its body arrives and lists
/// it (with the size so far) before the upload ends, so an object counts from the first listing
/// that shows it at the size it ends with.
/// </summary>
internal sealed partial class BucketWatcher : IAsyncDisposable
{
    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly TimeSpan _pause;
    private readonly Dictionary<string, SeenObject> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private long _listings;
    private long _listTicks;
    private string? _error;

    public BucketWatcher(IAmazonS3 client, string bucket, string prefix, TimeSpan pause)
    {
        _client = client;
        _bucket = bucket;
        _prefix = prefix;
        _pause = pause;
    }

    /// <summary>Every object seen, in the order first seen.</summary>
    public IReadOnlyList<SeenObject> Seen
    {
        get
        {
            lock (_lock)
            {
                return [.. _seen.Values.OrderBy(o => o.SeenAt)];
            }
        }
    }

    /// <summary>Listings made so far, and their mean duration in ms.</summary>
    public (long Count, double MeanMs) Listings
    {
        get
        {
            var count = Interlocked.Read(ref _listings);
            return (count, count == 0 ? double.NaN : Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _listTicks)).TotalMilliseconds / count);
        }
    }

    /// <summary>The last listing error, if any.</summary>
    public string? Error => Volatile.Read(ref _error);

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Lists once more right now (after the caller knows everything is delivered).</summary>
    public Task ListOnceAsync(CancellationToken cancellationToken) => ListAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await ListAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (AmazonS3Exception ex)
                {
                    Volatile.Write(ref _error, ex.Message);
                }

                await Task.Delay(_pause, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private async Task ListAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix };
        var page = new List<S3Object>();
        while (true)
        {
            var response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            page.AddRange(response.S3Objects ?? []);
            if (response.IsTruncated != true)
            {
                break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }

        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _listings);
        Interlocked.Add(ref _listTicks, now - started);
        lock (_lock)
        {
            foreach (var item in page.Where(o => !_seen.TryGetValue(o.Key, out var known) || known.Size != (o.Size ?? 0)))
            {
                var match = KeyPattern().Match(item.Key);
                _seen[item.Key] = match.Success
                    ? new SeenObject(item.Key, match.Groups["shard"].Value, match.Groups["first"].Value, match.Groups["last"].Value, item.Size ?? 0, now)
                    : new SeenObject(item.Key, string.Empty, string.Empty, string.Empty, item.Size ?? 0, now);
            }
        }
    }

    [GeneratedRegex(@"-(?<shard>shardId-\d{12})-(?<first>\d+)-(?<last>\d+)(\.gz)?$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
