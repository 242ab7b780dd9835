using System.Collections;
using Microsoft.Extensions.Configuration.Memory;

namespace Streams.Server.Configuration;

/// <summary>
/// Loads the node's configuration: <c>appsettings.json</c> (and <c>appsettings.{Environment}.json</c>)
/// from the content root, then environment variables named <c>STREAMS_Section__Key</c>, then the
/// command line; later sources win. Every problem found is reported at once, as a
/// <see cref="NodeConfigurationException"/>.
/// </summary>
internal static class NodeConfiguration
{
    /// <summary>The prefix of the environment variables read as configuration.</summary>
    public const string EnvironmentPrefix = "STREAMS_";

    /// <summary>The file of defaults shipped beside the program.</summary>
    public const string SettingsFileName = "appsettings.json";

    /// <summary>The key that chooses the log format.</summary>
    public const string LogFormatKey = "Logging:Format";

    private static readonly Dictionary<string, string> _switchMappings = new(CommandLineSwitches.Mappings, StringComparer.OrdinalIgnoreCase);

    /// <summary>The process's environment variables.</summary>
    public static IReadOnlyDictionary<string, string?> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = entry.Value as string;
        }

        return variables;
    }

    /// <summary>Adds the sources to <paramref name="configuration"/>, then binds and validates the settings.</summary>
    public static NodeSettings Load(
        IConfigurationBuilder configuration,
        string contentRoot,
        string environmentName,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyList<string> args)
    {
        var commandLineProblems = CheckCommandLine(args);
        if (commandLineProblems.Count > 0)
        {
            throw new NodeConfigurationException(commandLineProblems);
        }

        IConfiguration built;
        try
        {
            configuration.SetBasePath(contentRoot);
            configuration.AddJsonFile(SettingsFileName, optional: true, reloadOnChange: false);
            configuration.AddJsonFile($"appsettings.{environmentName}.json", optional: true, reloadOnChange: false);
            configuration.Add(new MemoryConfigurationSource { InitialData = FromEnvironment(environment) });
            configuration.AddCommandLine([.. args], _switchMappings);
            built = configuration as IConfiguration ?? configuration.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            var detail = ex.InnerException is { } inner ? $"{ex.Message} {inner.Message}" : ex.Message;
            throw new NodeConfigurationException($"The configuration could not be read: {detail}", ex);
        }

        return Bind(built, environment);
    }

    /// <summary>Binds and validates the settings of an already loaded configuration.</summary>
    public static NodeSettings Bind(IConfiguration configuration, IReadOnlyDictionary<string, string?> environment)
    {
        var problems = new List<string>();
        var node = BindSection<NodeOptions>(configuration, NodeOptions.SectionName, problems);
        var telemetry = BindSection<TelemetryOptions>(configuration, TelemetryOptions.SectionName, problems).WithStandardVariables(environment);
        var cluster = BindSection<ClusterOptions>(configuration, ClusterOptions.SectionName, problems);
        var limits = BindSection<LimitsOptions>(configuration, LimitsOptions.SectionName, problems);
        var firehose = BindSection<FirehoseOptions>(configuration, FirehoseOptions.SectionName, problems);
        problems.AddRange(node.Validate());
        problems.AddRange(telemetry.Validate());
        problems.AddRange(cluster.Validate(node.NodeId));
        problems.AddRange(limits.Validate());
        problems.AddRange(firehose.Validate());

        var format = LogFormat.Simple;
        var formatValue = configuration[LogFormatKey];
        if (!string.IsNullOrWhiteSpace(formatValue) && !Enum.TryParse(formatValue, ignoreCase: true, out format))
        {
            problems.Add($"{LogFormatKey} (--log-format) is '{formatValue}'; use 'simple' (one line per entry, the default) or 'json'.");
        }

        if (problems.Count > 0)
        {
            throw new NodeConfigurationException(problems);
        }

        return new NodeSettings(node, telemetry, format, cluster, limits, firehose);
    }

    /// <summary>Environment variables <c>STREAMS_Section__Key</c> as configuration keys <c>Section:Key</c>.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return environment
            .Where(v => v.Key.Length > EnvironmentPrefix.Length && v.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => KeyValuePair.Create(v.Key[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), v.Value))
            .ToList();
    }

    /// <summary>
    /// Checks the shape of the command line, which the configuration provider would otherwise
    /// take silently: stray words, a switch without a value, a key outside the known sections.
    /// </summary>
    public static IReadOnlyList<string> CheckCommandLine(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var problems = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                problems.Add($"Unexpected argument '{arg}'; options look like --grpc-port 7500, --grpc-port=7500 or --Node:GrpcPort 7500 (see --help).");
                continue;
            }

            var separator = arg.IndexOf('=', StringComparison.Ordinal);
            var name = separator < 0 ? arg : arg[..separator];
            if (separator < 0)
            {
                if (i + 1 >= args.Count)
                {
                    problems.Add($"Option '{name}' needs a value, as in '{name} VALUE' or '{name}=VALUE'.");
                    continue;
                }

                i++;
            }

            var key = _switchMappings.TryGetValue(name, out var mapped) ? mapped : name[2..];
            var section = key.Split(ConfigurationPath.KeyDelimiter)[0];
            if (!CommandLineSwitches.KnownSections.Contains(section) || !key.Contains(ConfigurationPath.KeyDelimiter, StringComparison.Ordinal))
            {
                problems.Add($"Unknown option '{name}'; use a switch from --help or a setting as --Section:Key (sections: {string.Join(", ", CommandLineSwitches.KnownSections.Order(StringComparer.Ordinal))}).");
            }
        }

        return problems;
    }

    private static T BindSection<T>(IConfiguration configuration, string sectionName, List<string> problems)
        where T : class, new()
    {
        var section = configuration.GetSection(sectionName);

        // A misspelt key would otherwise be ignored without a word.
        var settings = typeof(T).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren().Where(c => !settings.Contains(c.Key)))
        {
            problems.Add($"{child.Path} is not a setting; the settings of section '{sectionName}' are {string.Join(", ", settings.Order(StringComparer.Ordinal))}.");
        }

        try
        {
            return section.Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            // "Failed to convert configuration value 'abc' at 'Node:GrpcPort' to type 'System.Int32'."
            problems.Add($"{ex.Message} Set a value of the right type (see --help and appsettings.json).");
            return new T();
        }
    }
}
