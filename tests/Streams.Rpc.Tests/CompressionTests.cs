using System.IO.Compression;
using Google.Protobuf;
using Streams.Rpc.Interop;
using Streams.Rpc.Server;
using Streams.Testing.V1;

namespace Streams.Rpc.Tests;

/// <summary>When the server gzips its responses, seen on the wire.</summary>
public sealed class CompressionTests
{
    private const string UnaryPath = "/streams.testing.v1.Interop/Unary";

    private static readonly byte[] _compressible = new EchoRequest { Payload = ByteString.CopyFrom(new byte[10_000]) }.ToByteArray();

    [Theory]
    [InlineData(ResponseCompressionMode.WhenRequestCompressed, true, "identity,gzip", true)]
    [InlineData(ResponseCompressionMode.WhenRequestCompressed, true, "identity", false)]
    [InlineData(ResponseCompressionMode.WhenRequestCompressed, false, "identity,gzip", false)]
    [InlineData(ResponseCompressionMode.WhenAccepted, false, "identity,deflate,gzip", true)]
    [InlineData(ResponseCompressionMode.WhenAccepted, false, "identity", false)]
    [InlineData(ResponseCompressionMode.Never, true, "gzip", false)]
    public async Task The_server_compresses_only_what_the_client_accepts(ResponseCompressionMode mode, bool gzipRequest, string acceptEncoding, bool expectGzip)
    {
        await using var server = await RpcTestServer.StartAsync(o => o.ResponseCompression = mode);
        using var raw = new RawHttp2();
        var body = gzipRequest ? GrpcFrame.Of(Gzip(_compressible), flag: 1) : GrpcFrame.Of(_compressible);
        var headers = new Dictionary<string, string> { ["grpc-accept-encoding"] = acceptEncoding };
        if (gzipRequest)
        {
            headers["grpc-encoding"] = "gzip";
        }

        var response = await raw.SendAsync(server.Address, UnaryPath, body, headers: headers);

        Assert.Equal("0", response.GrpcStatus);
        Assert.Equal(expectGzip ? "gzip" : null, response.Headers.GetValueOrDefault("grpc-encoding"));
        Assert.Equal(expectGzip ? 1 : 0, response.Body[0]);
        var message = expectGzip ? Gunzip(response.Body.AsSpan(5).ToArray()) : response.Body.AsSpan(5).ToArray();
        Assert.Equal(10_000, EchoResponse.Parser.ParseFrom(message).Payload.Length);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
