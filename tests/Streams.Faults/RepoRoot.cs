namespace Streams.Faults;

/// <summary>The repository whose deploy/netns/hosts.sh runs the hosts: STREAMS_REPO_ROOT, else the first directory above this program with global.json and deploy/.</summary>
internal static class RepoRoot
{
    public static string Find()
    {
        if (Environment.GetEnvironmentVariable("STREAMS_REPO_ROOT") is { Length: > 0 } configured && Directory.Exists(Path.Combine(configured, "deploy")))
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "global.json")) && Directory.Exists(Path.Combine(directory.FullName, "deploy")))
            {
                return directory.FullName;
            }
        }

        throw new FaultRunException($"Could not find the repository above {AppContext.BaseDirectory}; set STREAMS_REPO_ROOT.");
    }
}
