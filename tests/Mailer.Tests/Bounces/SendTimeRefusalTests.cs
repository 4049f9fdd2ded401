using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Bounces;

/// <summary>The SMTP server's 5xx at send time: 5.1.1 stops all further mail to the address, 5.7.1 (policy) does not.</summary>
public sealed class SendTimeRefusalTests
{
    private static readonly DateTimeOffset Launch = new(2024, 5, 1, 10, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset WeekDue = new(2024, 5, 19, 7, 0, 30, TimeSpan.Zero);

    [Fact]
    public async Task UnknownUserAtSendTime_GetsNoReminder_WhilePolicyRefusedAndGoodOnesDo()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        var weekStarted = false;
        smtp.RecipientAnswer = to => to switch
        {
            "dead0@example.net" => SmtpAnswer.Reply(550, "5.1.1 <dead0@example.net>: Recipient address rejected: User unknown"),
            "blocked0@example.net" when !Volatile.Read(ref weekStarted) =>
                SmtpAnswer.Reply(550, "5.7.1 Service unavailable; client host blocked"),
            _ => null,
        };
        var time = new FakeTimeProvider(Launch);
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("refusal"), smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
        }).Start();
        await host.AddConfirmedAsync(1, Launch.AddDays(-1), prefix: "dead");
        await host.AddConfirmedAsync(1, Launch.AddDays(-1), prefix: "blocked");
        await host.AddConfirmedAsync(1, Launch.AddDays(-1), prefix: "good");
        await host.WaitUntilSettledAsync("announcement", 3);

        Volatile.Write(ref weekStarted, true);
        time.SetUtcNow(WeekDue);
        await host.WaitUntilSettledAsync("reminder-week", 3);

        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM bounce_events b JOIN subscribers s ON s.id = b.subscriber_id WHERE s.email = 'dead0@example.net' AND b.kind = 'hard' AND b.status = '5.1.1' AND b.source = 'smtp'"));
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM bounce_events b JOIN subscribers s ON s.id = b.subscriber_id WHERE s.email = 'blocked0@example.net' AND b.kind = 'policy'"));
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'dead0@example.net' AND d.mailing = 'reminder-week' AND d.status = 'skipped' AND d.last_reply LIKE '%stopped (hard bounce 5.1.1)%'"));
        Assert.Equal(2, smtp.Messages.Count(m => m.To.Single() == "good0@example.net"));
        Assert.Equal(1, smtp.Messages.Count(m => m.To.Single() == "blocked0@example.net"));   // refused once for policy, then taken
        Assert.DoesNotContain(smtp.Messages, m => m.To.Single() == "dead0@example.net");
    }
}
