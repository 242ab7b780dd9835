using Streams.Client.Producing;
using Streams.Load.Engine;
using Streams.Load.Targets;

namespace Streams.Load.Performance;

/// <summary>Makes the target a scenario drives, on the Streams cluster or NATS servers of the run.</summary>
internal static class ScenarioTargets
{
    public static LoadTarget Create(ScenarioSpec spec, string key, StreamsDeployment? streams, NatsDeployment? nats) => spec.Kind switch
    {
        ScenarioKind.Fake => new FakeTarget(spec.FakeDelay, spec.FakeStallStart, spec.FakeStallLength),
        ScenarioKind.Nats => new NatsTarget(Require(nats, spec), key, spec.RecordBytes),
        ScenarioKind.Sdk => new SdkProducerTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, ProducerTransport.ProduceStream),
        ScenarioKind.SdkPutRecords => new SdkProducerTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, ProducerTransport.PutRecords),
        ScenarioKind.PutRecords => new PutRecordsTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, spec.Batch),
        ScenarioKind.Produce => new ProduceStreamTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, spec.Batch),
        ScenarioKind.EndToEndGetRecords => new EndToEndTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, DeliveryPath.GetRecords),
        ScenarioKind.EndToEndSubscribe => new EndToEndTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, DeliveryPath.SubscribeToShard),
        ScenarioKind.EndToEndGroup => new EndToEndTarget(Require(streams, spec), key, spec.Shards, spec.RecordBytes, DeliveryPath.ConsumerGroup),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown scenario."),
    };

    private static T Require<T>(T? deployment, ScenarioSpec spec)
        where T : class =>
        deployment ?? throw new InvalidOperationException($"Scenario {spec.Kind} needs a {(typeof(T) == typeof(NatsDeployment) ? "NATS" : "Streams")} target and none was set up.");
}
