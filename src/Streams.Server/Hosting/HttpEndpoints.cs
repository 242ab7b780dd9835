using System.Text;
using Streams.Rpc.Health;
using Streams.Server.Telemetry;
using ServingStatus = Streams.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Streams.Server.Hosting;

/// <summary>
/// The HTTP listener's endpoints: <c>/healthz</c> (liveness: the process answers),
/// <c>/readyz</c> (readiness: the gRPC health status of the whole server, service "", is
/// SERVING) and <c>/metrics</c> (Prometheus text, see <see cref="PrometheusExposition"/>).
/// Anything else is 404.
/// </summary>
internal sealed class HttpEndpoints(HealthStatusRegistry health, PrometheusExposition metrics)
{
    /// <summary>The liveness path.</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>The readiness path.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>The Prometheus metrics path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Serves one request.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (path is not (LivenessPath or ReadinessPath or MetricsPath))
        {
            return WriteAsync(context, StatusCodes.Status404NotFound, $"not found: this port serves {LivenessPath}, {ReadinessPath} and {MetricsPath}");
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "method not allowed: use GET or HEAD");
        }

        if (path == LivenessPath)
        {
            return WriteAsync(context, StatusCodes.Status200OK, "ok");
        }

        if (path == MetricsPath)
        {
            return WriteMetricsAsync(context);
        }

        var status = health.GetStatus(string.Empty) ?? ServingStatus.ServiceUnknown;
        return status == ServingStatus.Serving
            ? WriteAsync(context, StatusCodes.Status200OK, "ready")
            : WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"not ready: {Name(status)}");
    }

    /// <summary>The answer to a request that reached the wrong listener or no endpoint.</summary>
    public static Task NotFoundAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, "not found");

    private Task WriteMetricsAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = PrometheusText.ContentType;
        response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // Collecting runs the observable instruments' callbacks: not for a HEAD.
            return Task.CompletedTask;
        }

        var body = Encoding.UTF8.GetBytes(metrics.Scrape());
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static Task WriteAsync(HttpContext context, int statusCode, string text)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync(text + "\n", context.RequestAborted);
    }

    private static string Name(ServingStatus status) => status switch
    {
        ServingStatus.Serving => "SERVING",
        ServingStatus.NotServing => "NOT_SERVING",
        ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    };
}
