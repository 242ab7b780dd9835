namespace Streams.Load.Engine;

/// <summary>How a scenario paces its operations.</summary>
internal enum PacingKind
{
    /// <summary>A fixed number of workers, each sending its next operation when the last completed: the maximum throughput.</summary>
    ClosedLoop,

    /// <summary>Operations at a constant rate, each at its intended time whatever is still in flight.</summary>
    Constant,

    /// <summary>Operations at a rate rising linearly from one value to another over the measured time.</summary>
    Ramp,
}
