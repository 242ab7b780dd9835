using System.Net;
using System.Net.Security;
using Streams.Rpc.Client;
using Streams.Server.Configuration;
using Streams.Server.Hosting;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Tests;

/// <summary>Both listeners under TLS with a certificate made in the test.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _certificate = TestCertificate.Create();

    public void Dispose()
    {
        _certificate.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_pfx_certificate_serves_grpc_and_health_over_https()
    {
        var pfx = TestCertificate.WritePfx(_certificate, _directory.Combine("server.pfx"), "s3cret");

        // The password comes from the environment, as the help recommends.
        await using var node = await TestNode.StartAsync(
            ["--tls-cert", pfx],
            new Dictionary<string, string?> { ["STREAMS_Node__TlsCertificatePassword"] = "s3cret" });

        await AssertServesOverTlsAsync(node.Node);
    }

    [Fact]
    public async Task A_pem_certificate_with_its_key_serves_over_https()
    {
        var pem = TestCertificate.WritePem(_certificate, _directory.Combine("server.pem"));

        await using var node = await TestNode.StartAsync(["--tls-cert", pem]);

        await AssertServesOverTlsAsync(node.Node);
    }

    [Fact]
    public void A_wrong_password_is_a_configuration_error()
    {
        var pfx = TestCertificate.WritePfx(_certificate, _directory.Combine("server.pfx"), "right");

        var error = Assert.Throws<NodeConfigurationException>(() => StreamsNode.Create(new StreamsNodeSettings
        {
            Args = ["--tls-cert", pfx],
            ContentRootPath = _directory.Path,
            EnvironmentVariables = new Dictionary<string, string?> { ["STREAMS_Node__TlsCertificatePassword"] = "wrong" },
        }));

        Assert.Contains("Node:TlsCertificatePath", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private async Task AssertServesOverTlsAsync(StreamsNode node)
    {
        Assert.Equal("https", node.GrpcAddress.Scheme);
        Assert.Equal("https", node.HttpAddress.Scheme);

        var rpcOptions = new RpcChannelOptions
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => TestCertificate.Matches(presented, _certificate),
            },
        };
        Assert.Equal(ServingStatus.Serving, await TestNode.CheckHealthAsync(node.GrpcAddress, rpcOptions));

        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => TestCertificate.Matches(presented, _certificate),
            },
        };
        using var http = new HttpClient(handler);
        using var response = await http.GetAsync(new Uri(node.HttpAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);

        // A cleartext client cannot talk to the TLS listener.
        using var cleartext = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => cleartext.GetAsync(new UriBuilder(node.HttpAddress) { Scheme = "http" }.Uri));
    }
}
