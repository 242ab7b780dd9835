using System.Security.Cryptography;
using Streams.Server.Firehose.Output;
using Streams.Server.Tests.Interop;

namespace Streams.Server.Tests.Firehose;

/// <summary>Gzip objects are standard gzip: gzip(1) and Python's gzip module read them.</summary>
public sealed class GzipInteropTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Gzip_and_python_read_the_objects_back()
    {
        var objects = new Dictionary<string, byte[]>
        {
            ["empty.gz"] = Build(RecordFormat.Raw, 0, 0, out var empty),
            ["small.gz"] = Build(RecordFormat.JsonLines, 10, 100, out var small),
            ["large.gz"] = Build(RecordFormat.Raw, 40, 200 * 1024, out var large),
        };
        var plain = new Dictionary<string, byte[]> { ["empty.gz"] = empty, ["small.gz"] = small, ["large.gz"] = large };
        foreach (var (name, bytes) in objects)
        {
            await File.WriteAllBytesAsync(_directory.Combine(name), bytes);
        }

        var gzip = File.Exists("/usr/bin/gzip") ? "/usr/bin/gzip" : "/bin/gzip";
        var test = await ToolProcess.RunAsync(gzip, ["-t", .. objects.Keys.Select(_directory.Combine)], TimeSpan.FromSeconds(30));
        Assert.True(test.ExitCode == 0, test.Describe());

        const string Script = "import gzip, hashlib, sys\nfor f in sys.argv[1:]:\n    print(f, hashlib.sha256(gzip.decompress(open(f, 'rb').read())).hexdigest())";
        var python = await ToolProcess.RunAsync(ToolProcess.Python, ["-c", Script, .. objects.Keys.Select(_directory.Combine)], TimeSpan.FromSeconds(30));
        Assert.True(python.ExitCode == 0, python.Describe());
        var digests = python.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')).ToDictionary(p => Path.GetFileName(p[0]), p => p[1]);
        foreach (var (name, bytes) in plain)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), digests[name]);
        }
    }

    private static byte[] Build(RecordFormat records, int count, int dataBytes, out byte[] uncompressed)
    {
        var random = new Random(count);
        var input = Enumerable.Range(0, count).Select(i =>
        {
            var data = new byte[dataBytes];
            random.NextBytes(data);
            data.AsSpan().Replace((byte)'\n', (byte)'.');
            return new TestRecord($"{i + 1:D20}000000", $"k{i}", DateTimeOffset.UnixEpoch.AddDays(i), data);
        }).ToArray();
        uncompressed = ObjectReading.Build(new ObjectFormat(records, "\n"u8.ToArray(), ObjectCompression.None), input);
        return ObjectReading.Build(new ObjectFormat(records, "\n"u8.ToArray(), ObjectCompression.Gzip), input);
    }
}
