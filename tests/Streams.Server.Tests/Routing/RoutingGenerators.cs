using FsCheck;
using FsCheck.Fluent;

namespace Streams.Server.Tests.Routing;

/// <summary>Generators for 128-bit keys and sequence numbers, with the edges weighted in.</summary>
internal static class RoutingGenerators
{
    private static readonly Gen<ulong> _halves = Gen.Frequency(
        (6, Gen.Choose(0, 65535).ArrayOf(4).Select(parts => parts.Aggregate(0UL, (acc, p) => (acc << 16) | (uint)p))),
        (1, Gen.Elements(0UL, 1UL, ulong.MaxValue, ulong.MaxValue - 1, 1UL << 63)));

    public static Gen<UInt128> HashKeys => Gen.Frequency(
        (8, from high in _halves from low in _halves select new UInt128(high, low)),
        (1, Gen.Elements(UInt128.Zero, UInt128.One, UInt128.MaxValue, UInt128.MaxValue - 1, UInt128.One << 127)));

    public static Gen<long> Indexes => Gen.Frequency(
        (4, _halves.Select(h => (long)(h >> 1))),
        (2, Gen.Choose(0, 1000).Select(i => (long)i)),
        (1, Gen.Elements(0L, 1L, long.MaxValue, long.MaxValue - 1)));

    public static Gen<int> Positions => Gen.Frequency(
        (4, Gen.Choose(0, 999_999)),
        (2, Gen.Choose(0, 10)),
        (1, Gen.Elements(0, 999_999)));
}
