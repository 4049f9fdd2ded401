using Mailer.Delivery;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Delivery;

public class DeliverySetupTests
{
    private static WebApplication Build(string contentRoot, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = contentRoot });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddDelivery();
        return builder.Build();
    }

    [Fact]
    public async Task WithoutHost_MailsGoToThePickupFolderUnderTheContentRoot_AndTheHealthCheckSaysSo()
    {
        var root = TestPaths.NewTemporaryDirectory("setup");
        await using var app = Build(root, ("Smtp:Host", ""), ("Smtp:PickupDirectory", "outbox"));

        var transport = Assert.IsType<PickupDirectoryTransport>(app.Services.GetRequiredService<IMailTransport>());
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(root, "outbox"), transport.Directory);
        var entry = report.Entries["transport"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal($"pickup folder {Path.Combine(root, "outbox")}", entry.Description);
    }

    [Fact]
    public async Task WithHost_MailsGoOverSmtp_WithTheConfiguredSettings()
    {
        await using var app = Build(
            TestPaths.NewTemporaryDirectory("setup"),
            ("Smtp:Host", "mail.example.org"),
            ("Smtp:Port", "587"),
            ("Smtp:Security", "StartTls"),
            ("Smtp:Username", "mailer"),
            ("Smtp:Password", "s3cret"),
            ("Smtp:Connections", "8"),
            ("Smtp:MaxMessagesPerSecond", "50"),
            ("Smtp:Timeout", "00:00:05"));

        var transport = Assert.IsType<SmtpTransport>(app.Services.GetRequiredService<IMailTransport>());
        var options = app.Services.GetRequiredService<IOptions<SmtpOptions>>().Value;

        Assert.Equal("smtp mail.example.org:587 (StartTls)", transport.Describe());
        Assert.Equal((8, 50, TimeSpan.FromSeconds(5)), (options.Connections, options.MaxMessagesPerSecond, options.Timeout));
    }

    [Fact]
    public void Defaults_MatchTheDocumentation()
    {
        var options = new SmtpOptions();

        Assert.True(options.UsesPickupDirectory);
        Assert.Equal((25, SmtpSecurity.Auto, "outbox", 4, 0, TimeSpan.FromSeconds(30)),
            (options.Port, options.Security, options.PickupDirectory, options.Connections, options.MaxMessagesPerSecond, options.Timeout));
    }

    [Theory]
    [InlineData("Smtp:Port", "0", "Smtp:Port must be 1-65535.")]
    [InlineData("Smtp:Port", "65536", "Smtp:Port must be 1-65535.")]
    [InlineData("Smtp:Connections", "0", "Smtp:Connections must be 1-64.")]
    [InlineData("Smtp:Connections", "65", "Smtp:Connections must be 1-64.")]
    [InlineData("Smtp:MaxMessagesPerSecond", "-1", "Smtp:MaxMessagesPerSecond")]
    [InlineData("Smtp:Timeout", "00:00:00", "Smtp:Timeout")]
    [InlineData("Smtp:Username", "mailer", "Smtp:Username and Smtp:Password")]
    [InlineData("Smtp:Password", "s3cret", "Smtp:Username and Smtp:Password")]
    [InlineData("Smtp:HeloName", "mail example\r\norg", "Smtp:HeloName")]
    [InlineData("Smtp:Host", "mail example org", "Smtp:Host")]
    [InlineData("Smtp:PickupDirectory", "", "Smtp:PickupDirectory")]
    [InlineData("Smtp:TrustedCertificateSha256", "AB:CD:EF", "Smtp:TrustedCertificateSha256 must be the relay certificate's SHA-256")]
    [InlineData("Smtp:TrustedCertificateSha256", "not hex at all, but sixty-four characters long for the length check!", "Smtp:TrustedCertificateSha256")]
    [InlineData("Smtp:TrustedCaFile", "/nonexistent/relay-ca.pem", "Smtp:TrustedCaFile: /nonexistent/relay-ca.pem does not exist.")]
    [InlineData("Smtp:TrustedCaFile", "/etc/passwd", "Smtp:TrustedCaFile: /etc/passwd holds no PEM certificate.")]
    public async Task WrongSetting_StopsTheStart_NamingTheKey(string key, string value, string message)
    {
        await using var app = Build(TestPaths.NewTemporaryDirectory("setup"), (key, value));

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<SmtpOptions>>().Value);

        Assert.Contains(error.Failures, failure => failure.Contains(message, StringComparison.Ordinal));
    }
}
