using Mailer.Tests.Support;

namespace Mailer.Tests.Hosting;

/// <summary><c>deploy/systemd/mailer.service</c> as systemd reads it (<c>systemd-analyze verify</c>), and what it promises.</summary>
public class SystemdUnitTests
{
    private static readonly string Unit = Path.Combine(TestPaths.RepositoryRoot, "deploy", "systemd", "mailer.service");

    [Fact]
    public async Task TheUnit_VerifiesWithoutAWarning()
    {
        var analyze = ExternalProgram.Require("/usr/bin/systemd-analyze", "systemd");
        // verify checks that ExecStart's program exists: here the dotnet of this test run stands in for /usr/bin/dotnet.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? Environment.ProcessPath!;
        var copy = Path.Combine(TestPaths.NewTemporaryDirectory("systemd"), "mailer.service");
        var text = await File.ReadAllTextAsync(Unit, TestContext.Current.CancellationToken);
        Assert.Contains("\nExecStart=/usr/bin/dotnet /opt/mailer/Mailer.dll ", text);
        await File.WriteAllTextAsync(copy, text.Replace("\nExecStart=/usr/bin/dotnet ", $"\nExecStart={dotnet} ", StringComparison.Ordinal),
            TestContext.Current.CancellationToken);

        var (exitCode, output) = await ExternalProgram.RunAsync(analyze, ["verify", "--man=no", copy]);

        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"systemd-analyze verify: exit {exitCode}\n{output}");
    }

    [Fact]
    public void TheUnit_RunsAsItsOwnUser_WritesOnlyDataAndOutbox_AndRestartsOnFailure()
    {
        var directives = File.ReadAllLines(Unit).Where(l => l.Contains('=') && !l.StartsWith('#')).ToList();

        foreach (var expected in new[]
        {
            "User=mailer", "Group=mailer", "ProtectSystem=strict", "ReadWritePaths=/var/lib/mailer/data /var/lib/mailer/outbox",
            "NoNewPrivileges=true", "PrivateTmp=true", "Restart=on-failure", "EnvironmentFile=/etc/mailer/mailer.env",
            "Environment=Mailer__DataDirectory=/var/lib/mailer/data", "Environment=Smtp__PickupDirectory=/var/lib/mailer/outbox",
            "Environment=ASPNETCORE_ENVIRONMENT=Production",
        })
        {
            Assert.Contains(expected, directives);
        }

        Assert.Single(directives, d => d.StartsWith("ReadWritePaths=", StringComparison.Ordinal));
        Assert.DoesNotContain(directives, d => d.StartsWith("Environment=Mailer__SigningKey", StringComparison.Ordinal) || d.Contains("Password", StringComparison.Ordinal));
    }
}
