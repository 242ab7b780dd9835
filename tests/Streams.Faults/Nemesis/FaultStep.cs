namespace Streams.Faults.Nemesis;

/// <summary>One step of a plan: a quiet time, then <paramref name="Fault"/> held for <paramref name="Duration"/>, then healed.</summary>
internal sealed record FaultStep(TimeSpan QuietBefore, Fault Fault, TimeSpan Duration);
