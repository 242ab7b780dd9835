using System.Globalization;
using System.Text;
using Xunit.Sdk;

namespace Streams.Cluster.Tests;

/// <summary>What the writer tests share around their cluster: the failure report and the clean-up.</summary>
internal static class ClusterRun
{
    /// <summary>
    /// The exception a failed run throws: <paramref name="failure"/>'s message, then
    /// <paramref name="header"/> (seed, counts), the timeline, where the data was kept and how
    /// every node saw the cluster.
    /// </summary>
    public static async Task<XunitException> FailureAsync(Exception failure, string header, List<string> timeline, TestCluster? cluster)
    {
        var context = new StringBuilder(header).Append("\nTimeline:\n");
        lock (timeline)
        {
            context.AppendJoin('\n', timeline).Append('\n');
        }

        if (cluster is not null)
        {
            context.Append(CultureInfo.InvariantCulture, $"Node data kept in {cluster.Root}; every node's whole output in {cluster.SaveOutputs()}.\n").Append(await cluster.DescribeAsync(60));
        }

        return new XunitException($"{failure.Message}\n{context}", failure);
    }

    /// <summary>Stops the writers and the cluster; deletes the data only when the run passed.</summary>
    public static async Task CleanUpAsync(TestCluster? cluster, CancellationTokenSource stopWriters, Task[] writers, bool passed)
    {
        await stopWriters.CancelAsync();
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
            await Task.WhenAll(writers).ContinueWith(static _ => { }, TaskScheduler.Default);
            if (passed)
            {
                cluster.DeleteData();
            }
        }
    }
}
