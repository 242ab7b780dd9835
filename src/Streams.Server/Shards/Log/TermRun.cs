namespace Streams.Server.Shards.Log;

/// <summary>Entries from <paramref name="Start"/> on carry <paramref name="Term"/>, until the next run starts.</summary>
/// <param name="Start">The run's first index.</param>
/// <param name="Term">The term of its entries.</param>
internal readonly record struct TermRun(long Start, long Term);
