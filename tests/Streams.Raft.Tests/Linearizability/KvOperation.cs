using System.Globalization;

namespace Streams.Raft.Tests.Linearizability;

/// <summary>
/// One client operation on the key-value store, as the client saw it. Times come from one global
/// logical clock; op A precedes op B in real time iff <c>A.Response &lt; B.Invocation</c>.
/// </summary>
/// <param name="ClientId">The client that issued it (for diagnostics only).</param>
/// <param name="OpId">An id unique in the history (for diagnostics only).</param>
/// <param name="Kind">Put or get.</param>
/// <param name="Key">The key, compared ordinally.</param>
/// <param name="Value">For a put the value written; for a get the value observed (null: absent).</param>
/// <param name="Invocation">When the client sent it.</param>
/// <param name="Response">When the client got the answer; null when the outcome is unknown.</param>
public sealed record KvOperation(
    int ClientId,
    long OpId,
    KvOperationKind Kind,
    string Key,
    string? Value,
    long Invocation,
    long? Response)
{
    public bool IsComplete => Response.HasValue;

    public override string ToString()
    {
        var interval = $"[{Invocation}, {Response?.ToString(CultureInfo.InvariantCulture) ?? "?"}]";
        return Kind == KvOperationKind.Put
            ? $"#{OpId} c{ClientId} Put({Key}, {Show(Value)}) {interval}"
            : $"#{OpId} c{ClientId} Get({Key}) -> {(IsComplete ? Show(Value) : "?")} {interval}";
    }

    /// <summary>A register value as the explanations print it: quoted, or <c>absent</c>.</summary>
    internal static string Show(string? value) => value is null ? "absent" : $"\"{value}\"";
}
