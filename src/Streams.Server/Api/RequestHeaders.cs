using RpcMetadata = Streams.Rpc.Metadata;
using Streams.Rpc.Server;

namespace Streams.Server.Api;

/// <summary>The request headers nodes set on requests they forward to each other.</summary>
internal static class RequestHeaders
{
    /// <summary>Marks a request forwarded by another node: the receiver serves it or refuses it, never forwards it again.</summary>
    public const string Forwarded = "streams-forwarded";

    /// <summary>Headers of a forwarded request.</summary>
    public static RpcMetadata ForwardedHeaders() => new RpcMetadata().Add(Forwarded, "1");

    /// <summary>Whether the call was forwarded by another node.</summary>
    public static bool IsForwarded(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.RequestHeaders.GetValue(Forwarded) is not null;
    }
}
