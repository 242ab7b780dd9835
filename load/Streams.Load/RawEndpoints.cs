using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Streams.Load;

/// <summary>
/// The baseline: plain Kestrel HTTP/2 endpoints on the same server as the gRPC service, with no
/// gRPC framing, no protobuf and no trailers. <c>POST /raw/unary</c> answers with the request
/// body; <c>POST /raw/stream?count=N&amp;size=S</c> writes N chunks of S bytes, flushing each one
/// as the gRPC server flushes each message.
/// </summary>
internal static class RawEndpoints
{
    public const string UnaryPath = "/raw/unary";
    public const string StreamPath = "/raw/stream";
    private const string ContentType = "application/octet-stream";
    private const int MaxChunkSize = 4 * 1024 * 1024;

    /// <summary>Adds the raw endpoints as a middleware ahead of the gRPC dispatcher (no routing: both paths pay one string compare).</summary>
    public static void Map(WebApplication app) => app.Use(next => context =>
    {
        var path = context.Request.Path.Value;
        if (string.Equals(path, UnaryPath, StringComparison.Ordinal))
        {
            return UnaryAsync(context);
        }

        if (string.Equals(path, StreamPath, StringComparison.Ordinal))
        {
            return StreamAsync(context);
        }

        if (path is not null && path.StartsWith("/raw.", StringComparison.Ordinal))
        {
            // rpc-breakdown's hand-written gRPC server.
            if (string.Equals(path, HandFramedGrpc.UnaryPath, StringComparison.Ordinal))
            {
                return HandFramedGrpc.UnaryAsync(context);
            }

            if (string.Equals(path, HandFramedGrpc.StreamPath, StringComparison.Ordinal))
            {
                return HandFramedGrpc.ServerStreamAsync(context);
            }
        }

        return next(context);
    });

    private static async Task UnaryAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var reader = context.Request.BodyReader;
        try
        {
            ReadResult read;
            while (true)
            {
                read = await reader.ReadAsync(aborted).ConfigureAwait(false);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }

                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }

            var body = read.Buffer;
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType;
            var writer = response.BodyWriter;
            foreach (var segment in body)
            {
                writer.Write(segment.Span);
            }

            reader.AdvanceTo(body.End);
            await writer.FlushAsync(aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (aborted.IsCancellationRequested || ex is IOException)
        {
            // The client went away (deadline, cancellation, end of a run): nothing to answer.
        }
    }

    private static async Task StreamAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var query = context.Request.Query;
        if (!int.TryParse(query["count"], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || !int.TryParse(query["size"], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || size is < 1 or > MaxChunkSize)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType;
            var writer = response.BodyWriter;
            for (var i = 0; i < count; i++)
            {
                // Like the Interop service, every message has its own content.
                var payload = chunk.AsSpan(0, size);
                payload.Fill((byte)(i % 256));
                writer.Write(payload);
                var flushed = await writer.FlushAsync(aborted).ConfigureAwait(false);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (aborted.IsCancellationRequested || ex is IOException)
        {
            // The client stopped reading (end of a run): nothing to finish.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
