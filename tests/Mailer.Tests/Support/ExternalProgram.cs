using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mailer.Tests.Support;

/// <summary>
/// The real programs that sit around Mailer in production (nginx, Postfix, Dovecot, promtool, Chromium, Debian's
/// python3 with python3-dkim), found on this machine or skipped with the package to install. Under <c>CI=true</c> a
/// missing program fails the test instead: CI installs them all, so a skip there would hide a broken setup.
/// <code>
/// var nginx = ExternalProgram.Require("/usr/sbin/nginx", "nginx");
/// </code>
/// </summary>
public static class ExternalProgram
{
    /// <summary>The path of the program, or a skip (a failure under <c>CI=true</c>) naming the Debian package.</summary>
    public static string Require(string path, string debianPackage)
    {
        if (!File.Exists(path))
        {
            SkipOrFail($"{path} is not installed (apt-get install {debianPackage}).");
        }

        return path;
    }

    /// <summary>Skips the test, or fails it under <c>CI=true</c>, with <paramref name="reason"/>.</summary>
    public static void SkipOrFail(string reason)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail("CI=true, so this test must run: " + reason);
        }

        Assert.Skip(reason);
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a program to its end and returns its exit code with what it printed (stdout, then stderr).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string path, IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(path)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{path} did not start");
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
