using System.Buffers;

namespace Streams.Server.Firehose.Output;

/// <summary>One pooled chunk of a <see cref="PooledChunks"/>, and its link in the finished sequence.</summary>
internal sealed class ChunkSegment : ReadOnlySequenceSegment<byte>
{
    /// <summary>The rented array, or empty while the segment waits in the spare list.</summary>
    public byte[] Buffer { get; private set; } = [];

    /// <summary>Bytes written at the start of <see cref="Buffer"/>.</summary>
    public int Written { get; set; }

    /// <summary>Bytes still free in <see cref="Buffer"/>.</summary>
    public int Free => Buffer.Length - Written;

    /// <summary>Takes a freshly rented array whose first byte is byte <paramref name="runningIndex"/> of the object.</summary>
    public void Attach(byte[] buffer, long runningIndex)
    {
        Buffer = buffer;
        Written = 0;
        RunningIndex = runningIndex;
        Memory = default;
        Next = null;
    }

    /// <summary>Fixes what the sequence shows of this chunk: its written bytes, then <paramref name="next"/>.</summary>
    public void Seal(ChunkSegment? next)
    {
        Memory = Buffer.AsMemory(0, Written);
        Next = next;
    }

    /// <summary>Gives the array back (the caller returns it to the pool).</summary>
    public byte[] Detach()
    {
        var buffer = Buffer;
        Buffer = [];
        Written = 0;
        Memory = default;
        Next = null;
        return buffer;
    }
}
