namespace Streams.Server.Hosting;

/// <summary>
/// What a <see cref="StreamsNode"/> is created from: the command line, and, for tests and
/// embedding, the environment and the directory of <c>appsettings.json</c>.
/// </summary>
public sealed class StreamsNodeSettings
{
    /// <summary>The command-line arguments.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>
    /// The environment variables to read (<c>STREAMS_*</c>, <c>OTEL_EXPORTER_OTLP_*</c>,
    /// <c>DOTNET_ENVIRONMENT</c>). Null: the process's own.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? EnvironmentVariables { get; init; }

    /// <summary>Where <c>appsettings.json</c> is read from. Null: the program's directory.</summary>
    public string? ContentRootPath { get; init; }
}
