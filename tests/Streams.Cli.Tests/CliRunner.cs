namespace Streams.Cli.Tests;

/// <summary>What a run of the command printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Runs the streams command in this process.</summary>
public static class CliRunner
{
    public static async Task<CliResult> RunAsync(string[] args, string stdin = "", CancellationToken cancellationToken = default)
    {
        using var output = new LockedWriter();
        using var error = new LockedWriter();
        var code = await CliApp.RunAsync(args, new StringReader(stdin), output, error, cancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}

/// <summary>A string writer that a test may read while the command writes to it from other threads.</summary>
public sealed class LockedWriter : StringWriter
{
    private readonly Lock _lock = new();

    public override void Write(char value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            base.Write(buffer, index, count);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_lock)
        {
            base.WriteLine(value);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return base.ToString();
        }
    }
}
