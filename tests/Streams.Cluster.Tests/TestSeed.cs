using System.Globalization;

namespace Streams.Cluster.Tests;

/// <summary>A test's random seed: the one an environment variable names (to replay a run), else a fresh one.</summary>
internal static class TestSeed
{
    public static int FromEnvironment(string variable) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();
}
