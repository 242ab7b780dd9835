using System.Collections.Immutable;

namespace Streams.Server.Metadata;

/// <summary>A page of streams in name order, for ListStreams.</summary>
/// <param name="Streams">The streams of the page.</param>
/// <param name="HasMore">True when more streams follow the last one.</param>
public sealed record StreamPage(ImmutableArray<StreamRecord> Streams, bool HasMore);
