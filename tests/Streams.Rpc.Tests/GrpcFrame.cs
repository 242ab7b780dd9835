using System.Buffers.Binary;

namespace Streams.Rpc.Tests;

/// <summary>
/// gRPC length-prefixed frames spelled out by hand (flag byte, big-endian length, payload), so a
/// test can put exactly these bytes on the wire, lying lengths and bad flags included.
/// </summary>
public static class GrpcFrame
{
    /// <summary>A frame whose header says <paramref name="declaredLength"/>, whatever the payload's length.</summary>
    public static byte[] Of(byte flag, uint declaredLength, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>A truthful frame around <paramref name="payload"/>.</summary>
    public static byte[] Of(ReadOnlySpan<byte> payload, byte flag = 0) => Of(flag, (uint)payload.Length, payload);
}
