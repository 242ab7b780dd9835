using Google.Protobuf;

namespace Streams.Rpc;

/// <summary>Describes one RPC: its kind, its names and how its messages are marshalled.</summary>
public sealed class Method<TRequest, TResponse>
{
    /// <summary>Creates a method description.</summary>
    public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller, Marshaller<TResponse> responseMarshaller)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        Path = $"/{serviceName}/{name}";
        RequestMarshaller = requestMarshaller;
        ResponseMarshaller = responseMarshaller;
    }

    /// <summary>The kind of call.</summary>
    public MethodType Type { get; }

    /// <summary>The fully qualified service name, such as <c>grpc.health.v1.Health</c>.</summary>
    public string ServiceName { get; }

    /// <summary>The method name, such as <c>Check</c>.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 path, <c>/service/method</c>.</summary>
    public string Path { get; }

    /// <summary>Marshals requests.</summary>
    public Marshaller<TRequest> RequestMarshaller { get; }

    /// <summary>Marshals responses.</summary>
    public Marshaller<TResponse> ResponseMarshaller { get; }
}

/// <summary>Shorthands for describing protobuf methods, one line per RPC.</summary>
public static class Method
{
    /// <summary>Describes a protobuf method.</summary>
    public static Method<TRequest, TResponse> Protobuf<TRequest, TResponse>(MethodType type, string serviceName, string name)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>, new()
        => new(type, serviceName, name, ProtobufMarshallerCache<TRequest>.Instance, ProtobufMarshallerCache<TResponse>.Instance);

    private static class ProtobufMarshallerCache<T>
        where T : IMessage<T>, new()
    {
        // Read-only after type initialization: one marshaller per message type.
        public static readonly ProtobufMarshaller<T> Instance = new(new MessageParser<T>(() => new T()));
    }
}
