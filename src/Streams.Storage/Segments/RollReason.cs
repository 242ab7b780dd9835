namespace Streams.Storage.Segments;

/// <summary>Why the active segment rolls (the answer of SegmentLog.ShouldRoll).</summary>
internal enum RollReason
{
    /// <summary>It does not.</summary>
    None,

    /// <summary>The next batch would take it beyond SegmentSizeBytes.</summary>
    Size,

    /// <summary>Its first batch is SegmentMaxAge old or older.</summary>
    Age,

    /// <summary>The next batch's index would not fit the 32-bit relative index of the offset index.</summary>
    IndexRange,

    /// <summary>Every batch in it is past retention: it rolls so that it can be deleted.</summary>
    Retention,
}
