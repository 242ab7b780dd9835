namespace Streams.Rpc.Client;

/// <summary>The parts of a call that do not depend on its message types.</summary>
internal interface IClientCall : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    RpcStatus GetStatus();

    Metadata GetTrailers();
}
