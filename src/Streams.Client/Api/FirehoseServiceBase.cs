using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Client.Api;

/// <summary>The server side of <c>streams.v1.Firehose</c>; methods not overridden answer UNIMPLEMENTED.</summary>
public abstract class FirehoseServiceBase : IRpcService
{
    /// <summary>CreateDeliveryStream.</summary>
    public virtual Task<CreateDeliveryStreamResponse> CreateDeliveryStream(CreateDeliveryStreamRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>DescribeDeliveryStream.</summary>
    public virtual Task<DescribeDeliveryStreamResponse> DescribeDeliveryStream(DescribeDeliveryStreamRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>ListDeliveryStreams.</summary>
    public virtual Task<ListDeliveryStreamsResponse> ListDeliveryStreams(ListDeliveryStreamsRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>UpdateDestination.</summary>
    public virtual Task<UpdateDestinationResponse> UpdateDestination(UpdateDestinationRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <summary>DeleteDeliveryStream.</summary>
    public virtual Task<DeleteDeliveryStreamResponse> DeleteDeliveryStream(DeleteDeliveryStreamRequest request, ServerCallContext context) => throw RpcServices.Unimplemented(context);

    /// <inheritdoc />
    public void Bind(RpcServiceBinder binder)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddUnary(FirehoseMethods.CreateDeliveryStream, CreateDeliveryStream);
        binder.AddUnary(FirehoseMethods.DescribeDeliveryStream, DescribeDeliveryStream);
        binder.AddUnary(FirehoseMethods.ListDeliveryStreams, ListDeliveryStreams);
        binder.AddUnary(FirehoseMethods.UpdateDestination, UpdateDestination);
        binder.AddUnary(FirehoseMethods.DeleteDeliveryStream, DeleteDeliveryStream);
    }
}
