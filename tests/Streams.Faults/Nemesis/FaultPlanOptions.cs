namespace Streams.Faults.Nemesis;

/// <summary>What a plan may contain and how long its parts last.</summary>
internal sealed record FaultPlanOptions
{
    /// <summary>The kinds to draw from (link faults only when the hosts' links can take them).</summary>
    public required IReadOnlyList<FaultKind> Kinds { get; init; }

    public TimeSpan MinFault { get; init; } = TimeSpan.FromSeconds(4);

    public TimeSpan MaxFault { get; init; } = TimeSpan.FromSeconds(12);

    public TimeSpan MinQuiet { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxQuiet { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Every kind there is.</summary>
    public static IReadOnlyList<FaultKind> AllKinds { get; } = Enum.GetValues<FaultKind>();

    /// <summary>The kinds that need a link that can delay, drop and reorder packets.</summary>
    public static IReadOnlyList<FaultKind> LinkKinds { get; } = [FaultKind.Delay, FaultKind.Loss, FaultKind.Reorder];
}
