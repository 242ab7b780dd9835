namespace Streams.Server.Firehose.Output;

/// <summary>How a whole delivery object is compressed.</summary>
public enum ObjectCompression
{
    /// <summary>Not compressed.</summary>
    None,

    /// <summary>One gzip member (RFC 1952); the object's key ends with ".gz".</summary>
    Gzip,
}
