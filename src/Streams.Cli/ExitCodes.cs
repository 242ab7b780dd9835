namespace Streams.Cli;

/// <summary>The exit codes of the <c>streams</c> command.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The server refused a request, could not be reached, or a record was not written.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: an unknown option, a missing argument, a bad value.</summary>
    public const int Usage = 2;

    /// <summary>Ctrl-C stopped a command that does not end by itself on Ctrl-C.</summary>
    public const int Interrupted = 130;
}
