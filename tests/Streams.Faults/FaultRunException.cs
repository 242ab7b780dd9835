namespace Streams.Faults;

/// <summary>The run could not be carried out (its hosts, nodes or stream could not be set up); not a finding about Streams.</summary>
internal sealed class FaultRunException : Exception
{
    public FaultRunException()
    {
    }

    public FaultRunException(string message)
        : base(message)
    {
    }

    public FaultRunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
