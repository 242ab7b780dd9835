using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Streams.Rpc.Server;

namespace Streams.Server.Hosting;

/// <summary>
/// The node's two Kestrel listeners: gRPC (h2c, or HTTP/1.1 and HTTP/2 negotiated by ALPN under
/// TLS) and HTTP/1.1. Each marks its connections with a <see cref="ListenerFeature"/>; after the
/// server started, each knows the address it is bound to.
/// </summary>
internal sealed class NodeListeners(IPAddress address, int grpcPort, int httpPort, X509Certificate2? certificate)
{
    private ListenOptions? _grpc;
    private ListenOptions? _http;

    /// <summary>The gRPC listener's bound address, such as <c>http://127.0.0.1:7400</c>.</summary>
    public Uri GrpcAddress => AddressOf(_grpc, "gRPC");

    /// <summary>The HTTP listener's bound address, such as <c>http://127.0.0.1:7401</c>.</summary>
    public Uri HttpAddress => AddressOf(_http, "HTTP");

    private string Scheme => certificate is null ? Uri.UriSchemeHttp : Uri.UriSchemeHttps;

    /// <summary>Adds both listeners to Kestrel.</summary>
    public void Configure(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        kestrel.ConfigureHttp2ForRpc();
        kestrel.Listen(address, grpcPort, listen =>
        {
            listen.Use(next => connection =>
            {
                connection.Features.Set(ListenerFeature.Grpc);
                return next(connection);
            });
            if (certificate is null)
            {
                // Cleartext HTTP/2 with prior knowledge (h2c), as gRPC clients speak it.
                listen.Protocols = HttpProtocols.Http2;
            }
            else
            {
                // ALPN picks h2 for gRPC clients; an HTTP/1.1 client is told to upgrade (426).
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            }

            _grpc = listen;
        });
        kestrel.Listen(address, httpPort, listen =>
        {
            listen.Use(next => connection =>
            {
                connection.Features.Set(ListenerFeature.Http);
                return next(connection);
            });
            listen.Protocols = HttpProtocols.Http1;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }

            _http = listen;
        });
    }

    private Uri AddressOf(ListenOptions? listen, string name)
    {
        // Kestrel writes the bound end point (with the port it picked for port 0) back into the options.
        if (listen is null || listen.IPEndPoint is not { Port: > 0 } endPoint)
        {
            throw new InvalidOperationException($"The {name} listener is not bound yet; start the node first.");
        }

        return new UriBuilder(Scheme, endPoint.Address.ToString(), endPoint.Port).Uri;
    }
}
