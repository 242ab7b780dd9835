using System.Collections.Concurrent;
using Streams.Client.Api;
using Streams.Rpc;

namespace Streams.Load.ClusterBench;

/// <summary>
/// What failed in one workload: whole calls (a gRPC error), records a successful call reported as
/// failed (PutRecords' per-record error_code), refused Produce batches; a few distinct reasons with
/// their counts. Thread-safe.
/// </summary>
internal sealed class Failures
{
    private const int MaxKinds = 8;
    private readonly ConcurrentDictionary<string, long> _kinds = new(StringComparer.Ordinal);
    private long _calls;
    private long _records;

    /// <summary>Calls or streams that failed as a whole.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Records reported failed inside calls that succeeded.</summary>
    public long Records => Interlocked.Read(ref _records);

    public bool Any => Calls > 0 || Records > 0;

    /// <summary>Reasons (at most a few) and how often each happened.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Kinds => [.. _kinds.OrderByDescending(k => k.Value)];

    /// <summary>A call or stream that failed.</summary>
    public void Call(string operation, Exception exception)
    {
        Interlocked.Increment(ref _calls);
        Count(operation + ": " + Describe(exception), 1);
    }

    /// <summary>Records that came back with an error code.</summary>
    public void FailedRecords(string operation, int count, string errorCode, string errorMessage)
    {
        Interlocked.Add(ref _records, count);
        Count($"{operation}: record {errorCode}: {errorMessage}", count);
    }

    /// <summary>A Produce batch refused as a whole (error_code set on its response).</summary>
    public void RefusedBatch(string errorCode, string errorMessage, int records)
    {
        Interlocked.Add(ref _records, records);
        Count($"Produce: batch refused, {errorCode}: {errorMessage}", 1);
    }

    /// <summary>Something wrong that is neither (records lost or out of order, a stall).</summary>
    public void Other(string what)
    {
        Interlocked.Increment(ref _calls);
        Count(what, 1);
    }

    private void Count(string kind, long count)
    {
        kind = kind.Length > 200 ? kind[..200] + "…" : kind;
        if (_kinds.Count < MaxKinds || _kinds.ContainsKey(kind))
        {
            _kinds.AddOrUpdate(kind, count, (_, n) => n + count);
        }
    }

    private static string Describe(Exception exception) => exception switch
    {
        RpcException rpc when rpc.Trailers.GetValue(StreamsErrors.TrailerName) is { } name => $"gRPC {rpc.StatusCode} {name}: {rpc.Status.Detail}",
        RpcException rpc => $"gRPC {rpc.StatusCode}: {rpc.Status.Detail}",
        OperationCanceledException => "cancelled (the call's own deadline)",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };
}
