using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Streams.Client.Api;
using Streams.Rpc;

namespace Streams.Cli;

/// <summary>
/// What every command shares: the console it runs against, the options every command takes
/// (<c>--endpoint</c>, <c>--timeout</c>, <c>--output</c>), and how a command's failure becomes
/// a message and an exit code.
/// </summary>
internal sealed class CliContext(TextReader input, TextWriter output, TextWriter error)
{
    public const string EndpointVariable = "STREAMS_ENDPOINT";
    public const string DefaultEndpoint = "http://127.0.0.1:7400";

    private static readonly TimeSpan _defaultTimeout = TimeSpan.FromSeconds(30);

    public TextReader Input => input;

    public TextWriter Output => output;

    public TextWriter Error => error;

    public Option<string> Endpoint { get; } = new("--endpoint", "-e")
    {
        Description = $"The node to talk to (any node of the cluster); default ${EndpointVariable}, else {DefaultEndpoint}.",
        HelpName = "URL",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultEndpoint,
    };

    public Option<TimeSpan?> Timeout { get; } = new("--timeout")
    {
        Description = "How long to wait for each call: 500ms, 30s, 2m, 1h, or a number of seconds (default 30s).",
        HelpName = "DURATION",
        Recursive = true,
        CustomParser = ParseDuration,
    };

    public Option<OutputFormat> Format { get; } = new("--output", "-o")
    {
        Description = "text (tables and lines, for people) or json (for scripts).",
        HelpName = "text|json",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Text,
    };

    /// <summary>
    /// Makes <paramref name="run"/> the action of <paramref name="command"/>: it gets a session to
    /// the endpoint; a refused call prints <c>error: &lt;streams-error&gt;: &lt;message&gt;</c> and exits 1.
    /// </summary>
    public void SetAction(Command command, Func<CliSession, ParseResult, Task<int>> run)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var address = parse.GetValue(Endpoint) ?? DefaultEndpoint;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                await Error.WriteLineAsync($"error: the endpoint '{address}' is not an http:// or https:// address such as {DefaultEndpoint} (--endpoint, ${EndpointVariable}).");
                return ExitCodes.Usage;
            }

            var timeout = parse.GetValue(Timeout) ?? _defaultTimeout;
            using var session = new CliSession(endpoint, timeout, new Output(Output, Error, parse.GetValue(Format)), Input, cancellationToken);
            try
            {
                return await run(session, parse);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                return ExitCodes.Interrupted;
            }
            catch (RpcException ex)
            {
                await Error.WriteLineAsync(Describe(ex, endpoint, timeout));
                return ExitCodes.Failed;
            }
        });
    }

    /// <summary>The one line printed for a failed call.</summary>
    public static string Describe(RpcException ex, Uri endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(ex);
        if (ex.Trailers.GetValue(StreamsErrors.TrailerName) is { Length: > 0 } name)
        {
            var leader = ex.Trailers.GetValue(StreamsErrors.LeaderTrailerName) is { Length: > 0 } hint ? $" (leader: {hint})" : "";
            return $"error: {name}: {ex.Status.Detail}{leader}";
        }

        if (ex.StatusCode == StatusCode.Unavailable && FindConnectFailure(ex) is { } connect)
        {
            return $"error: cannot reach a Streams node at {endpoint.OriginalString}: {connect.Message}. Is a node running there? "
                + $"Start one with 'streams start', or point --endpoint (or ${EndpointVariable}) at one.";
        }

        if (ex.StatusCode == StatusCode.DeadlineExceeded)
        {
            return $"error: {endpoint.OriginalString} did not answer within {FormatDuration(timeout)}; raise --timeout to wait longer.";
        }

        return $"error: {ex.StatusCode}: {ex.Status.Detail}";
    }

    private static HttpRequestException? FindConnectFailure(Exception ex)
    {
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException request)
            {
                return request;
            }
        }

        return null;
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value.Trim();
        var (number, unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], TimeSpan.FromMilliseconds(1)),
            _ when text.EndsWith('s') => (text[..^1], TimeSpan.FromSeconds(1)),
            _ when text.EndsWith('m') => (text[..^1], TimeSpan.FromMinutes(1)),
            _ when text.EndsWith('h') => (text[..^1], TimeSpan.FromHours(1)),
            _ => (text, TimeSpan.FromSeconds(1)),
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && value * unit.TotalSeconds <= TimeSpan.FromDays(1).TotalSeconds)
        {
            return unit * value;
        }

        result.AddError($"'{text}' is not a duration: use 500ms, 30s, 2m, 1h or a number of seconds (more than 0, at most a day).");
        return null;
    }

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalSeconds < 1 ? $"{duration.TotalMilliseconds:0}ms" : $"{duration.TotalSeconds:0.###}s";
}
