namespace Streams.Client.Api;

/// <summary>
/// The Kinesis-style error names a Streams server puts in the <see cref="TrailerName"/> trailer
/// beside the gRPC status, and the other trailers it sets.
/// </summary>
public static class StreamsErrors
{
    /// <summary>The trailer holding the error name.</summary>
    public const string TrailerName = "streams-error";

    /// <summary>The trailer naming the node believed to lead, on UNAVAILABLE.</summary>
    public const string LeaderTrailerName = "streams-leader";

    /// <summary>INVALID_ARGUMENT: a field is missing, malformed or beyond a limit; the message names it.</summary>
    public const string InvalidArgument = "InvalidArgumentException";

    /// <summary>NOT_FOUND: no such stream or shard.</summary>
    public const string ResourceNotFound = "ResourceNotFoundException";

    /// <summary>ALREADY_EXISTS or FAILED_PRECONDITION: the stream exists, or is not ACTIVE for this operation.</summary>
    public const string ResourceInUse = "ResourceInUseException";

    /// <summary>FAILED_PRECONDITION: the shard iterator is older than five minutes.</summary>
    public const string ExpiredIterator = "ExpiredIteratorException";

    /// <summary>FAILED_PRECONDITION: a sequence number or timestamp points before the trim horizon of a closed shard, or the shard has no such record.</summary>
    public const string InvalidSequence = "InvalidSequenceException";

    /// <summary>FAILED_PRECONDITION: an idempotent producer skipped a sequence number.</summary>
    public const string OutOfOrderSequence = "OutOfOrderSequenceException";

    /// <summary>FAILED_PRECONDITION: a consumer's lease on a shard was given to another member (a newer epoch), or the member expired.</summary>
    public const string LeaseLost = "LeaseLostException";

    /// <summary>FAILED_PRECONDITION: the resource changed since the version the request names (UpdateDestination); describe it again and retry.</summary>
    public const string ConcurrentModification = "ConcurrentModificationException";

    /// <summary>RESOURCE_EXHAUSTED: a limit on shards, streams or load was reached.</summary>
    public const string LimitExceeded = "LimitExceededException";

    /// <summary>RESOURCE_EXHAUSTED: a shard is over its write or read rate; retry with backoff.</summary>
    public const string ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException";

    /// <summary>UNAVAILABLE: no leader could be reached within the deadline; retry.</summary>
    public const string Unavailable = "ServiceUnavailableException";

    /// <summary>INTERNAL: an unexpected failure on the server.</summary>
    public const string InternalFailure = "InternalFailure";
}
