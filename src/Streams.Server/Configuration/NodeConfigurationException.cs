namespace Streams.Server.Configuration;

/// <summary>The node's configuration is wrong; <see cref="Problems"/> says what to change.</summary>
public sealed class NodeConfigurationException : Exception
{
    /// <summary>Creates an exception for one or more problems.</summary>
    public NodeConfigurationException(IReadOnlyList<string> problems)
        : base(Describe(problems))
    {
        Problems = problems;
    }

    /// <summary>Creates an exception for one problem.</summary>
    public NodeConfigurationException(string problem)
        : this([problem])
    {
    }

    /// <summary>Creates an exception for one problem found through <paramref name="innerException"/>.</summary>
    public NodeConfigurationException(string problem, Exception innerException)
        : base(problem, innerException)
    {
        Problems = [problem];
    }

    /// <summary>Creates an exception with no particular problem; prefer the other constructors.</summary>
    public NodeConfigurationException()
        : this("The node's configuration is invalid.")
    {
    }

    /// <summary>One message per problem, each saying what to change.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Describe(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return problems.Count == 1 ? problems[0] : "The node's configuration is invalid: " + string.Join(" ", problems);
    }
}
