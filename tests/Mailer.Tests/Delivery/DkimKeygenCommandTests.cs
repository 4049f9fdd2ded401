using System.Text.RegularExpressions;
using Mailer.Cli;
using Mailer.Delivery;
using Mailer.Delivery.Dkim;
using Mailer.Hosting;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Tests.Delivery;

public partial class DkimKeygenCommandTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static DkimKeygenCommand Command() =>
        new(new ConfigurationBuilder().Build(), Options.Create(TestOptions.Mailer()), TestDkimKeys.Environment(TestPaths.NewTemporaryDirectory("keygen")));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Keygen_WritesAPrivateKeyWithMode0600_AndThePrintedRecordVerifiesItsSignature(bool ed25519)
    {
        var path = Path.Combine(TestPaths.NewTemporaryDirectory("keygen"), "keys", "s1.pem");
        var output = new StringWriter();
        string[] args = ed25519 ? ["--selector", "s1", "--out", path, "--ed25519"] : ["--selector", "s1", "--out", path];

        var exit = await Command().RunAsync(CommandArguments.Parse(args), output, Cancel);

        Assert.Equal(0, exit);
        Assert.Contains($"-----BEGIN PRIVATE KEY-----", await File.ReadAllTextAsync(path, Cancel), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var line = Assert.Single(output.ToString().Split('\n'), l => l.StartsWith("s1._domainkey.example.org. TXT ", StringComparison.Ordinal));
        var strings = QuotedString().Matches(line).Select(m => m.Groups[1].Value).ToList();
        Assert.All(strings, s => Assert.InRange(s.Length, 1, 255));
        var record = string.Concat(strings);
        Assert.StartsWith(ed25519 ? "v=DKIM1; k=ed25519; p=" : "v=DKIM1; k=rsa; p=", record);
        if (!ed25519)
        {
            Assert.True(strings.Count >= 2, "a 2048-bit key's record needs more than one string");
        }

        var options = ed25519
            ? new DkimOptions { Domain = "example.org", Selector = TestDkimKeys.Selector, PrivateKeyPath = TestDkimKeys.RsaPath, Ed25519Selector = "s1", Ed25519PrivateKeyPath = path }
            : new DkimOptions { Domain = "example.org", Selector = "s1", PrivateKeyPath = path };
        var message = DkimSigningTests.Signed(TestMails.Message(1), eightBit: false, TestDkimKeys.Signing(options: options));
        var records = new Dictionary<string, string>(TestDkimKeys.Records) { ["s1._domainkey.example.org"] = record };

        var verdicts = await DkimVerifier.VerifyAsync(records, message);

        var verdict = Assert.Single(verdicts, v => v.Selector == "s1");
        Assert.True(verdict.Valid, verdict.Log);
    }

    [Fact]
    public async Task Keygen_NeverOverwritesAKey()
    {
        var path = Path.Combine(TestPaths.NewTemporaryDirectory("keygen"), "s1.pem");
        await File.WriteAllTextAsync(path, "the key in use", Cancel);
        var output = new StringWriter();

        var exit = await Command().RunAsync(CommandArguments.Parse(["--selector", "s1", "--out", path]), output, Cancel);

        Assert.Equal(1, exit);
        Assert.Contains("never overwrites", output.ToString(), StringComparison.Ordinal);
        Assert.Equal("the key in use", await File.ReadAllTextAsync(path, Cancel));
    }

    [Fact]
    public async Task Keygen_IsAnOperatorCommand_ThatRunsBeforeItsKeyExists()
    {
        var path = Path.Combine(TestPaths.NewTemporaryDirectory("keygen"), "dkim.pem");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = TestPaths.NewTemporaryDirectory("keygen") });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mailer:From"] = "Kampagne <kampagne@example.org>",
            ["Dkim:Domain"] = "example.org",
            ["Dkim:Selector"] = "s1",
            ["Dkim:PrivateKeyPath"] = path,
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<MailerOptions>().BindConfiguration(MailerOptions.Section);
        builder.AddDelivery();
        Assert.Contains(builder.Services, d => d.ServiceType == typeof(IOperatorCommand) && d.ImplementationType == typeof(DkimKeygenCommand));
        await using var app = builder.Build();
        var command = ActivatorUtilities.CreateInstance<DkimKeygenCommand>(app.Services);
        var output = new StringWriter();

        var exit = await command.RunAsync(CommandArguments.Parse(["--selector", "s1"]), output, Cancel);

        Assert.Equal(0, exit);
        Assert.True(File.Exists(path));
        Assert.Contains($"Dkim:PrivateKeyPath={path}", output.ToString(), StringComparison.Ordinal);
        Assert.True(app.Services.GetRequiredService<IOptions<DkimOptions>>().Value.IsEnabled);
    }

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedString();
}
