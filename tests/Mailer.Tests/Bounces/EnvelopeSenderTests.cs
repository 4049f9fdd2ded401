using System.Globalization;
using Dapper;
using Mailer.Bounces;
using Mailer.Delivery;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Delivery;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Bounces;

/// <summary>MAIL FROM per message (VERP): the ledger row's tag on campaign mail, the subscriber's on the confirmation, From without a return path.</summary>
public sealed class EnvelopeSenderTests
{
    private static readonly DateTimeOffset Launch = new(2024, 5, 1, 10, 0, 30, TimeSpan.Zero);

    [Fact]
    public async Task CampaignMail_GoesOutWithTheTagOfItsLedgerRow()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        var time = new FakeTimeProvider(Launch);
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("verp"), smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
            ["Bounces:ReturnPath"] = "bounces@example.org",
        }).Start();
        await host.AddConfirmedAsync(3, Launch.AddDays(-1));

        await host.WaitUntilSettledAsync("announcement", 3);

        var tags = host.Services.GetRequiredService<ReturnPath>();
        await using var connection = await host.Database.OpenAsync(Cancel);
        var rows = (await connection.QueryAsync<(long Id, string Email)>(
            "SELECT d.id, s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id")).ToDictionary(r => r.Email, r => r.Id);
        Assert.Equal(3, smtp.Messages.Count);
        foreach (var mail in smtp.Messages)
        {
            Assert.Equal(tags.ForDelivery(rows[mail.To.Single()]), mail.From);
            Assert.True(tags.TryRead(mail.From, out var tag));
            Assert.Equal(new BounceTag(BounceTagKind.Delivery, rows[mail.To.Single()]), tag);
            Assert.Equal("kampagne@example.org", mail.Message.From.Mailboxes.Single().Address);   // the header stays
            Assert.Null(mail.Message.Sender);
        }
    }

    [Fact]
    public async Task CampaignMail_WithoutReturnPath_GoesOutFromTheSender()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        var time = new FakeTimeProvider(Launch);
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("verp"), smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
        }).Start();
        await host.AddConfirmedAsync(1, Launch.AddDays(-1));

        await host.WaitUntilSettledAsync("announcement", 1);

        Assert.Equal("kampagne@example.org", Assert.Single(smtp.Messages).From);
    }

    [Fact]
    public async Task ConfirmationMail_GoesOutWithTheTagOfItsSubscriber()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = new MailerAppFactory
        {
            RecordConfirmationMails = false,
            CaptureJobs = true,
            Settings =
            {
                ["Smtp:Host"] = smtp.Host,
                ["Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
                ["Smtp:Security"] = "None",
                ["Bounces:ReturnPath"] = "bounces@example.org",
            },
        };
        await app.CreateClient().PostSignupAsync("anna@example.de");

        await app.RunConfirmationJobsAsync();

        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        var mail = Assert.Single(smtp.Messages);
        Assert.Equal(app.Services.GetRequiredService<ReturnPath>().ForConfirmation(subscriber.Id), mail.From);
    }

    [Fact]
    public async Task PickupFolder_WritesTheEnvelopeSenderAsReturnPath()
    {
        var directory = TestPaths.NewTemporaryDirectory("pickup");
        var transport = new PickupDirectoryTransport(directory, new FakeTimeProvider(TestMails.Now), NullLogger<PickupDirectoryTransport>.Instance);

        await using (var connection = await transport.OpenAsync(Cancel))
        {
            Assert.True((await connection.SendAsync(TestMails.Message(1), "bounces+d1-abcdefghij@example.org", Cancel)).IsAccepted);
            Assert.True((await connection.SendAsync(TestMails.Message(2), Cancel)).IsAccepted);
        }

        var written = Directory.GetFiles(directory).Select(f => MimeMessage.Load(f)).ToList();
        Assert.Equal(2, written.Count);
        Assert.Single(written, m => m.Headers[HeaderId.ReturnPath] == "<bounces+d1-abcdefghij@example.org>");
        Assert.Single(written, m => !m.Headers.Contains(HeaderId.ReturnPath));
    }
}
