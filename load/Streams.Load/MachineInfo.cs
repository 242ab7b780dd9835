using System.Runtime;
using System.Runtime.InteropServices;

namespace Streams.Load;

/// <summary>What the numbers were measured on.</summary>
internal sealed record MachineInfo(int Cores, string Cpu, string OperatingSystem, string Runtime, string RuntimeIdentifier, string Gc)
{
    public static MachineInfo Describe() => new(
        Environment.ProcessorCount,
        CpuModel(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.RuntimeIdentifier,
        (GCSettings.IsServerGC ? "server" : "workstation")
            + (GCSettings.LatencyMode == GCLatencyMode.Batch ? ", non-concurrent" : ", concurrent")
            + (GCSettings.IsServerGC ? (AppContext.GetData("System.GC.DynamicAdaptationMode") is 0 or "0" ? ", DATAS off" : ", DATAS on") : string.Empty));

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
                    {
                        return line[(colon + 1)..].Trim();
                    }
                }
            }
        }
        catch (IOException)
        {
            // Unknown CPU: not worth failing for.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
