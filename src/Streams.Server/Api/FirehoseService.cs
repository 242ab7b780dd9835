using Streams.Client.Api;
using Streams.Rpc.Server;
using Streams.V1;

namespace Streams.Server.Api;

/// <summary>
/// Serves <c>streams.v1.Firehose</c>: delivery streams, handed to <see cref="DeliveryStreamAdministration"/>;
/// errors are mapped as for the Streams service (<see cref="ApiCalls"/>).
/// </summary>
internal sealed class FirehoseService(DeliveryStreamAdministration administration, ILogger<FirehoseService> logger) : FirehoseServiceBase
{
    /// <inheritdoc/>
    public override Task<CreateDeliveryStreamResponse> CreateDeliveryStream(CreateDeliveryStreamRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => administration.CreateAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<DescribeDeliveryStreamResponse> DescribeDeliveryStream(DescribeDeliveryStreamRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => administration.DescribeAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<ListDeliveryStreamsResponse> ListDeliveryStreams(ListDeliveryStreamsRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => Task.FromResult(administration.List(request)));

    /// <inheritdoc/>
    public override Task<UpdateDestinationResponse> UpdateDestination(UpdateDestinationRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => administration.UpdateDestinationAsync(request, context.CancellationToken));

    /// <inheritdoc/>
    public override Task<DeleteDeliveryStreamResponse> DeleteDeliveryStream(DeleteDeliveryStreamRequest request, ServerCallContext context) =>
        ApiCalls.RunAsync(logger, context, () => administration.DeleteAsync(request, context.CancellationToken));
}
