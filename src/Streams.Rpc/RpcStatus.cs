namespace Streams.Rpc;

/// <summary>The outcome of a call: a status code and a message for a person.</summary>
/// <param name="Code">The status code.</param>
/// <param name="Detail">What happened, in words that say what to change; empty for OK.</param>
public readonly record struct RpcStatus(StatusCode Code, string Detail)
{
    /// <summary>The status of a call that succeeded.</summary>
    public static RpcStatus Ok { get; } = new(StatusCode.OK, string.Empty);

    /// <inheritdoc />
    public override string ToString() => Detail.Length == 0 ? Code.ToString() : $"{Code}: {Detail}";
}
