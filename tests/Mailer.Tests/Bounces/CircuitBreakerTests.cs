using Mailer.Cli;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Bounces;

/// <summary>A mailing whose hard bounces pass Bounces:PauseAbove pauses itself; status says so; resume continues it.</summary>
public sealed class CircuitBreakerTests
{
    private static async Task<(int Code, string Output)> RunAsync(CampaignHost host, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(host.Services, OperatorCommands.Parse(args)!, output, error);
        return (code, output + error.ToString());
    }

    [Fact]
    public async Task MailingThatBouncesHard_PausesItself_AndResumeSendsTheRest()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        smtp.RecipientAnswer = to => to.StartsWith("dead", StringComparison.Ordinal) ? SmtpAnswer.Reply(550, "5.1.1 User unknown") : null;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("breaker"), smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
            ["Campaign:BatchSize"] = "10",
            ["Smtp:Connections"] = "1",
            ["Bounces:PauseAbove"] = "0.2",
            ["Bounces:PauseAfter"] = "10",
        });
        await host.AddConfirmedAsync(10, time.GetUtcNow().AddDays(-30), prefix: "dead");   // the oldest rows: the first batch
        await host.AddConfirmedAsync(20, time.GetUtcNow().AddDays(-30), prefix: "ok");
        host.Start();

        await Eventually.MeetsAsync(async () => await host.CountAsync("SELECT COUNT(*) FROM campaign_state WHERE name = 'paused:meta-ai-objection/announcement'") == 1,
            TimeSpan.FromMinutes(2), "the announcement paused");
        var paused = await RunAsync(host, "status");
        var queuedWhilePaused = await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE mailing = 'announcement' AND status = 'queued'");
        var sentWhilePaused = smtp.Messages.Count;
        var dashboard = new HttpClient(host.Server.CreateHandler(context => context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback))
        {
            BaseAddress = new Uri("http://localhost"),
        };
        var page = await dashboard.GetStringAsync("/hangfire/campaign", TestContext.Current.CancellationToken);

        var resume = await RunAsync(host, "resume", "announcement");
        await host.WaitUntilSettledAsync("announcement", 30);
        var again = await RunAsync(host, "resume", "announcement");

        Assert.Contains("PAUSED: announcement since", paused.Output, StringComparison.Ordinal);
        Assert.Contains("10 hard bounces of 10 messages", paused.Output, StringComparison.Ordinal);
        Assert.Equal(20, queuedWhilePaused);
        Assert.Equal(0, sentWhilePaused);
        // The dashboard's Campaign page marks the paused mailing, with the reason, and only that one.
        Assert.Matches("""<tr data-mailing="announcement" data-campaign="meta-ai-objection"><td>announcement <span class="label label-danger mailer-paused" title="[^"]*10 hard bounces of 10 messages""", page);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(page, "mailer-paused"));
        Assert.Contains("announcement: resumed", resume.Output, StringComparison.Ordinal);
        Assert.Contains("announcement was not paused", again.Output, StringComparison.Ordinal);
        Assert.Equal(20, smtp.Messages.Count);
        Assert.All(smtp.Messages, m => Assert.StartsWith("ok", m.To.Single(), StringComparison.Ordinal));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM campaign_state WHERE name = 'paused:meta-ai-objection/announcement'"));
    }
}
