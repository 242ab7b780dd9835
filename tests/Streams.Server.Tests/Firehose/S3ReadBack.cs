using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Streams.Server.Tests.Firehose;

/// <summary>An object as `aws s3 ls` lists it.</summary>
public sealed record S3ListedObject(string Key, long Size);

/// <summary>An object as boto3 lists and reads it: its listed size, the bytes read and their sha256 (lowercase hex).</summary>
public sealed record S3ObjectDigest(string Key, long Size, long ReadBytes, string Sha256);

/// <summary>
/// Reads a bucket back with S3 clients nobody here wrote: Debian's AWS CLI (/usr/bin/aws) and
/// boto3 (tests/interop/s3/read_objects.py under STREAMS_PYTHON, else /usr/bin/python3). Both
/// are isolated from the machine's AWS configuration: only the credentials given here count.
/// Self-contained (no xunit) so that cluster tests and load runs can link this file.
/// </summary>
public sealed class S3ReadBack(Uri endpoint, string accessKeyId = "S3RVER", string secretAccessKey = "S3RVER", string region = "us-east-1")
{
    /// <summary>Debian's AWS CLI (a pyenv shim named aws on PATH is not it).</summary>
    public const string AwsCli = "/usr/bin/aws";

    private static readonly TimeSpan _toolTimeout = TimeSpan.FromSeconds(60);

    /// <summary>STREAMS_PYTHON (scripts/test.sh sets it), else Debian's /usr/bin/python3.</summary>
    public static string Python =>
        Environment.GetEnvironmentVariable("STREAMS_PYTHON") is { Length: > 0 } configured ? configured : "/usr/bin/python3";

    /// <summary>`aws s3 ls s3://bucket/prefix --recursive`: every key under the prefix with its size, in key order.</summary>
    public async Task<IReadOnlyList<S3ListedObject>> ListWithAwsCliAsync(string bucket, string prefix, CancellationToken cancellationToken = default)
    {
        var (stdout, _) = await RunAsync(RequireAwsCli(), ["--endpoint-url", endpoint.ToString(), "s3", "ls", $"s3://{bucket}/{prefix}", "--recursive"], cancellationToken);

        // "2026-11-21 18:53:26       1234 logs/2026/11/21/18/key": date, time, size, key.
        var listed = new List<S3ListedObject>();
        foreach (var line in Encoding.UTF8.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw new InvalidOperationException($"Unexpected line from aws s3 ls: '{line}'");
            }

            listed.Add(new S3ListedObject(parts[3], size));
        }

        return listed.OrderBy(o => o.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>`aws s3 cp s3://bucket/key -`: the object's bytes.</summary>
    public async Task<byte[]> GetWithAwsCliAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        var (stdout, _) = await RunAsync(RequireAwsCli(), ["--endpoint-url", endpoint.ToString(), "s3", "cp", $"s3://{bucket}/{key}", "-"], cancellationToken);
        return stdout;
    }

    /// <summary>boto3: every object under the prefix, read whole, in key order.</summary>
    public async Task<IReadOnlyList<S3ObjectDigest>> ReadWithBoto3Async(string bucket, string prefix, CancellationToken cancellationToken = default)
    {
        var python = Python;
        if (!File.Exists(python))
        {
            throw new InvalidOperationException($"Python {python} is missing: install the Debian packages python3 and python3-boto3 (scripts/test.sh installs them), or set STREAMS_PYTHON.");
        }

        var script = Path.Combine(S3rverProcess.RepoRoot(), "tests", "interop", "s3", "read_objects.py");
        var (stdout, _) = await RunAsync(python, [script, "--endpoint", endpoint.ToString(), "--bucket", bucket, "--prefix", prefix], cancellationToken);
        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.EnumerateArray()
            .Select(o => new S3ObjectDigest(
                o.GetProperty("key").GetString()!,
                o.GetProperty("size").GetInt64(),
                o.GetProperty("read_bytes").GetInt64(),
                o.GetProperty("sha256").GetString()!))
            .ToList();
    }

    private static string RequireAwsCli() =>
        File.Exists(AwsCli)
            ? AwsCli
            : throw new InvalidOperationException($"The AWS CLI {AwsCli} is missing: install the Debian package awscli (scripts/test.sh installs it).");

    private async Task<(byte[] Stdout, string Stderr)> RunAsync(string fileName, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Only these credentials: never the machine's profiles, instance metadata or a pager.
        var missing = Path.Combine(Path.GetTempPath(), "streams-no-aws-config-" + Guid.NewGuid().ToString("N"));
        info.Environment["AWS_ACCESS_KEY_ID"] = accessKeyId;
        info.Environment["AWS_SECRET_ACCESS_KEY"] = secretAccessKey;
        info.Environment["AWS_DEFAULT_REGION"] = region;
        info.Environment["AWS_REGION"] = region;
        info.Environment["AWS_CONFIG_FILE"] = missing;
        info.Environment["AWS_SHARED_CREDENTIALS_FILE"] = missing;
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        info.Environment["AWS_PAGER"] = string.Empty;
        foreach (var name in new[] { "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "PYTHONPATH", "PYTHONHOME" })
        {
            info.Environment.Remove(name);
        }

        var command = string.Join(' ', new[] { fileName }.Concat(args));
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout, cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_toolTimeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{command} did not finish within {_toolTimeout.TotalSeconds:0} s and was killed.\n--- stderr\n{await stderr}");
        }

        await copy;
        var errors = await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed with exit code {process.ExitCode}.\n--- stdout\n{Encoding.UTF8.GetString(stdout.ToArray())}\n--- stderr\n{errors}");
        }

        return (stdout.ToArray(), errors);
    }
}
