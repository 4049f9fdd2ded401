using Mailer.Bounces;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Bounces;

/// <summary>
/// The whole loop with real Postfix and Dovecot: a subscriber whose mailbox does not exist gets the announcement
/// (Postfix says 250), Postfix sends its DSN to the tagged return path, it lands in Dovecot, the mailbox job reads it,
/// and that subscriber gets no reminder while a good one does.
/// </summary>
public sealed class RealMailEndToEndTests
{
    private static readonly DateTimeOffset Launch = new(2024, 5, 1, 10, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset WeekDue = new(2024, 5, 19, 7, 0, 30, TimeSpan.Zero);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeadMailbox_BouncesThroughPostfixAndDovecot_AndGetsNoReminder_WhileAGoodOneDoes()
    {
        await using var mail = await RealMailServers.StartAsync("good");
        await using var unused = await TestSmtpServer.StartAsync();   // the host's default; the settings send to Postfix
        var time = new FakeTimeProvider(Launch);
        var settings = mail.MailerSettings();
        settings["Campaign:LaunchAt"] = "2024-05-01T12:00:00";
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("realmail-campaign"), unused, time, settings).Start();
        await host.ExecuteAsync(
            """
            INSERT INTO subscribers (campaign, email, locale, platforms, done_platforms, status, created_at, confirmed_at)
            VALUES ('meta-ai-objection', 'nobody@subscribers.test', 'de', 'facebook', '', 'confirmed', @At, @At),
                   ('meta-ai-objection', 'good@subscribers.test', 'en', 'facebook,instagram', '', 'confirmed', @At, @At)
            """, new { At = Launch.AddDays(-1).ToUnixTimeMilliseconds() });

        await host.WaitUntilSettledAsync("announcement", 2);
        Assert.Equal(2, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND last_reply LIKE '250 %'"));
        await Eventually.MeetsAsync(() => Task.FromResult(mail.Delivered(RealMailServers.BounceUser).Count == 1), TimeSpan.FromSeconds(60),
            "Postfix's DSN in the bounce mailbox\n" + mail.PostfixLog);

        var job = host.Services.GetRequiredService<BounceMailboxJob>();
        await Eventually.MeetsAsync(async () =>
        {
            await job.RunAsync(Cancel);
            return await host.CountAsync(
                "SELECT COUNT(*) FROM bounce_events b JOIN subscribers s ON s.id = b.subscriber_id WHERE s.email = 'nobody@subscribers.test' AND b.kind = 'hard' AND b.status = '5.1.1'") == 1;
        }, TimeSpan.FromSeconds(60), "the hard bounce recorded");

        time.SetUtcNow(WeekDue);
        await host.WaitUntilSettledAsync("reminder-week", 2);
        await Eventually.MeetsAsync(() => Task.FromResult(mail.Delivered("good").Count == 2), TimeSpan.FromSeconds(60), "the good subscriber's reminder");

        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'nobody@subscribers.test' AND d.mailing = 'reminder-week' AND d.status = 'skipped'"));
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'good@subscribers.test' AND d.mailing = 'reminder-week' AND d.status = 'sent'"));
        Assert.Single(mail.Delivered(RealMailServers.BounceUser));   // read, kept, and no second DSN
        Assert.Empty(unused.Messages);
    }
}
