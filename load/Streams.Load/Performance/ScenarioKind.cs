namespace Streams.Load.Performance;

/// <summary>The scenarios <c>streams-load run</c> and <c>streams-load report</c> know.</summary>
internal enum ScenarioKind
{
    /// <summary>The SDK producer over the Produce stream: one record per operation.</summary>
    Sdk,

    /// <summary>The SDK producer over PutRecords: one record per operation.</summary>
    SdkPutRecords,

    /// <summary>Raw PutRecords calls, a batch per operation.</summary>
    PutRecords,

    /// <summary>Raw Produce streams, a batch per operation.</summary>
    Produce,

    /// <summary>SDK producer to GetRecords polling: put to delivery.</summary>
    EndToEndGetRecords,

    /// <summary>SDK producer to SubscribeToShard: put to delivery.</summary>
    EndToEndSubscribe,

    /// <summary>SDK producer to a consumer group: put to delivery.</summary>
    EndToEndGroup,

    /// <summary>NATS JetStream: one acknowledged publish per operation.</summary>
    Nats,

    /// <summary>A fake target with a fixed delay (and an optional stall): checks the harness itself.</summary>
    Fake,
}
