using Streams.Rpc;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The methods of <c>streams.v1.Firehose</c>: delivery streams to S3-compatible storage.</summary>
public static class FirehoseMethods
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "streams.v1.Firehose";

    /// <summary>CreateDeliveryStream.</summary>
    public static readonly Method<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse> CreateDeliveryStream = Unary<CreateDeliveryStreamRequest, CreateDeliveryStreamResponse>("CreateDeliveryStream");

    /// <summary>DescribeDeliveryStream.</summary>
    public static readonly Method<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse> DescribeDeliveryStream = Unary<DescribeDeliveryStreamRequest, DescribeDeliveryStreamResponse>("DescribeDeliveryStream");

    /// <summary>ListDeliveryStreams.</summary>
    public static readonly Method<ListDeliveryStreamsRequest, ListDeliveryStreamsResponse> ListDeliveryStreams = Unary<ListDeliveryStreamsRequest, ListDeliveryStreamsResponse>("ListDeliveryStreams");

    /// <summary>UpdateDestination.</summary>
    public static readonly Method<UpdateDestinationRequest, UpdateDestinationResponse> UpdateDestination = Unary<UpdateDestinationRequest, UpdateDestinationResponse>("UpdateDestination");

    /// <summary>DeleteDeliveryStream.</summary>
    public static readonly Method<DeleteDeliveryStreamRequest, DeleteDeliveryStreamResponse> DeleteDeliveryStream = Unary<DeleteDeliveryStreamRequest, DeleteDeliveryStreamResponse>("DeleteDeliveryStream");

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name)
        where TRequest : Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : Google.Protobuf.IMessage<TResponse>, new() =>
        Method.Protobuf<TRequest, TResponse>(MethodType.Unary, ServiceName, name);
}
