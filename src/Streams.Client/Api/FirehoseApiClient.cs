using Streams.Rpc.Client;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The raw client of <c>streams.v1.Firehose</c>: one call per operation, no retries. Any node accepts any request.</summary>
public sealed class FirehoseApiClient(RpcChannel channel)
{
    /// <summary>CreateDeliveryStream.</summary>
    public AsyncUnaryCall<CreateDeliveryStreamResponse> CreateDeliveryStreamAsync(CreateDeliveryStreamRequest request, CallOptions options = default) =>
        channel.UnaryCall(FirehoseMethods.CreateDeliveryStream, request, options);

    /// <summary>DescribeDeliveryStream.</summary>
    public AsyncUnaryCall<DescribeDeliveryStreamResponse> DescribeDeliveryStreamAsync(DescribeDeliveryStreamRequest request, CallOptions options = default) =>
        channel.UnaryCall(FirehoseMethods.DescribeDeliveryStream, request, options);

    /// <summary>ListDeliveryStreams.</summary>
    public AsyncUnaryCall<ListDeliveryStreamsResponse> ListDeliveryStreamsAsync(ListDeliveryStreamsRequest request, CallOptions options = default) =>
        channel.UnaryCall(FirehoseMethods.ListDeliveryStreams, request, options);

    /// <summary>UpdateDestination.</summary>
    public AsyncUnaryCall<UpdateDestinationResponse> UpdateDestinationAsync(UpdateDestinationRequest request, CallOptions options = default) =>
        channel.UnaryCall(FirehoseMethods.UpdateDestination, request, options);

    /// <summary>DeleteDeliveryStream.</summary>
    public AsyncUnaryCall<DeleteDeliveryStreamResponse> DeleteDeliveryStreamAsync(DeleteDeliveryStreamRequest request, CallOptions options = default) =>
        channel.UnaryCall(FirehoseMethods.DeleteDeliveryStream, request, options);
}
