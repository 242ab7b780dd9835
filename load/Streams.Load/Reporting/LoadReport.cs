namespace Streams.Load.Reporting;

/// <summary>A whole load run: when and where it ran, how, and what each scenario measured.</summary>
/// <param name="Title">Heads every output.</param>
/// <param name="Started">When the run began.</param>
/// <param name="Machine">The machine: cores, memory, OS, .NET version.</param>
/// <param name="Command">The command line that produced it, to run it again.</param>
/// <param name="Method">Paragraphs on how it measures (shown before the figures).</param>
/// <param name="Scenarios">Every scenario's outcome, in the order run.</param>
internal sealed record LoadReport(
    string Title,
    DateTimeOffset Started,
    string Machine,
    string Command,
    IReadOnlyList<string> Method,
    IReadOnlyList<ScenarioOutcome> Scenarios);
