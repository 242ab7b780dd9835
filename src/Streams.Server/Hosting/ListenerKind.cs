namespace Streams.Server.Hosting;

/// <summary>The node's two listeners.</summary>
internal enum ListenerKind
{
    /// <summary>gRPC over HTTP/2: clients and peers.</summary>
    Grpc,

    /// <summary>HTTP/1.1: health, later metrics and the JSON API.</summary>
    Http,
}
