using Streams.Server.Tests.Interop;

namespace Streams.Server.Tests.Deploy;

/// <summary>
/// deploy/check.sh: the deployment files' structure (compose, Kubernetes, Dockerfile), a replay
/// of the Dockerfile's build stage on the files it copies, and the published server started as
/// the image would start it. Fails with everything the script printed.
/// </summary>
public sealed class DeployCheckTests
{
    // The replayed restore and Release publish of the server and the CLI take about a minute.
    private static readonly TimeSpan _scriptTimeout = TimeSpan.FromSeconds(240);

    private static string Script => Path.Combine(ToolProcess.RepoRoot, "deploy/check.sh");

    [Fact]
    public async Task Deploy_check_passes()
    {
        var result = await RunScriptAsync([]);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("deploy check: OK", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("  FAIL  ", result.Stdout, StringComparison.Ordinal);
        foreach (var step in new[] { "== 1/3 ", "== 2/3 ", "== 3/3 ", "== not checked here" })
        {
            Assert.True(result.Stdout.Contains(step, StringComparison.Ordinal), $"no '{step}' section\n{result.Describe()}");
        }

        // The steps that prove the image's build and entrypoint, not only the files' shape.
        foreach (var line in new[]
        {
            "ok    the build stage's COPY and RUN lines, in order, succeeded",
            "ok    the published output (COPY --from=build /app) holds Streams.Server.dll",
            "ok    the published output (COPY --from=build /app) holds cli/streams.dll",
            "ok    GET /healthz answers 200",
            "ok    GET /readyz answers 200",
            "ok    deploy/streams-init.sh (run 2) with the published CLI",
            "ok    node-1 stopped on SIGTERM with exit code 0",
        })
        {
            Assert.True(result.Stdout.Contains(line, StringComparison.Ordinal), $"missing '{line}'\n{result.Describe()}");
        }
    }

    [Fact]
    public async Task Help_describes_the_checks_and_unknown_arguments_fail()
    {
        var help = await RunScriptAsync(["--help"]);
        Assert.True(help.ExitCode == 0, help.Describe());
        Assert.Contains("Usage: deploy/check.sh", help.Stdout, StringComparison.Ordinal);

        var wrong = await RunScriptAsync(["--bogus"]);
        Assert.True(wrong.ExitCode == 2, wrong.Describe());
        Assert.Contains("unknown argument --bogus", wrong.Stderr, StringComparison.Ordinal);
    }

    private static Task<ToolResult> RunScriptAsync(string[] args)
    {
        return ToolProcess.RunAsync("bash", [Script, .. args], _scriptTimeout, environment: ToolProcess.ScriptEnvironment());
    }
}
