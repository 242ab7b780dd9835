namespace Streams.Server.Hosting;

/// <summary>
/// Set on every connection by the listener that accepted it, so that the request pipeline
/// serves each listener its own endpoints whatever port it was given (port 0 included).
/// </summary>
internal sealed class ListenerFeature
{
    private ListenerFeature(ListenerKind kind) => Kind = kind;

    /// <summary>The feature of gRPC connections.</summary>
    public static ListenerFeature Grpc { get; } = new(ListenerKind.Grpc);

    /// <summary>The feature of HTTP connections.</summary>
    public static ListenerFeature Http { get; } = new(ListenerKind.Http);

    /// <summary>The listener that accepted the connection.</summary>
    public ListenerKind Kind { get; }

    /// <summary>The listener of the request's connection, or null when it is unknown.</summary>
    public static ListenerKind? Of(HttpContext context) => context.Features.Get<ListenerFeature>()?.Kind;
}
