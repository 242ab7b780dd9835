using Streams.Client.Api;

namespace Streams.Server.Metadata;

/// <summary>Why the controller refused a command: a Kinesis error name and a message saying what to change.</summary>
/// <param name="Name">One of <see cref="StreamsErrors"/>' names, such as <c>InvalidArgumentException</c>.</param>
/// <param name="Message">What was wrong and what to do instead.</param>
public sealed record MetadataError(string Name, string Message)
{
    /// <summary>A field is missing, malformed or out of its range.</summary>
    /// <param name="message">The message.</param>
    public static MetadataError InvalidArgument(string message) => new(StreamsErrors.InvalidArgument, message);

    /// <summary>No such stream, shard or node.</summary>
    /// <param name="message">The message.</param>
    public static MetadataError NotFound(string message) => new(StreamsErrors.ResourceNotFound, message);

    /// <summary>The resource exists already, or is not in a state that allows the command.</summary>
    /// <param name="message">The message.</param>
    public static MetadataError InUse(string message) => new(StreamsErrors.ResourceInUse, message);

    /// <summary>A consumer's lease was given to another member, or the member is no longer in its group.</summary>
    /// <param name="message">The message.</param>
    public static MetadataError LeaseLost(string message) => new(StreamsErrors.LeaseLost, message);

    /// <summary>The request names a version of the resource that is not the current one.</summary>
    /// <param name="message">The message.</param>
    public static MetadataError ConcurrentModification(string message) => new(StreamsErrors.ConcurrentModification, message);

    /// <summary>A limit on streams or shards would be passed.</summary>
    /// <param name="message">The message.</param>
    public static MetadataError LimitExceeded(string message) => new(StreamsErrors.LimitExceeded, message);
}
