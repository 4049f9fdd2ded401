using Dapper;
using Mailer.Bounces;
using Mailer.Cli;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Bounces;

/// <summary>What <c>status</c> and <c>timeline</c> show of bounces and complaints, after a real send.</summary>
public sealed class BounceOperatorViewTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static async Task<(int Code, string Output)> RunAsync(CampaignHost host, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(host.Services, OperatorCommands.Parse(args)!, output, error);
        return (code, output + error.ToString());
    }

    [Fact]
    public async Task Status_ShowsRatesPerMailing_AndWarnsAboveTheLimits_TimelineShowsEachReport()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        smtp.RecipientAnswer = to => to == "view0@example.net" ? SmtpAnswer.Reply(550, "5.1.1 <view0@example.net>: Recipient address rejected: User unknown") : null;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("bounce-view"), smtp, time,
            new Dictionary<string, string?> { ["Campaign:LaunchAt"] = "2024-05-01T12:00:00", ["Bounces:ReturnPath"] = "bounces@example.org" }).Start();
        await host.AddConfirmedAsync(10, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "view");
        await host.WaitUntilSettledAsync("announcement", 10);
        await using (var connection = await host.Database.OpenAsync(Cancel))
        {
            var row = await connection.ExecuteScalarAsync<long>(
                "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'view1@example.net'");
            var report = new BounceReport(BounceKind.Complaint, "arf", null, "Feedback-Type: abuse", []);
            await host.Services.GetRequiredService<BounceStore>().RecordAsync(new BounceTag(BounceTagKind.Delivery, row), report, "arf-1", time.GetUtcNow(), 3, Cancel);
        }

        var status = await RunAsync(host, "status");
        var dead = await RunAsync(host, "timeline", "--email", "view0@example.net", "--now", "2024-05-20T10:00");
        var good = await RunAsync(host, "timeline", "--email", "view2@example.net", "--now", "2024-05-20T10:00");

        Assert.Equal(0, status.Code);
        Assert.Matches(@"announcement\s+10\s+1\s+10\.00 %\s+0\s+1\s+10\.00 %\s+0\s+0", status.Output);
        Assert.Contains("WARNING: announcement: 10.00 % hard bounces, above 2 %", status.Output, StringComparison.Ordinal);
        Assert.Contains("WARNING: announcement: 10.00 % complaints, above 0.1 %", status.Output, StringComparison.Ordinal);

        Assert.Contains("no mail since 2024-05-02 10:00:", dead.Output, StringComparison.Ordinal);
        Assert.Contains("hard bounce 5.1.1", dead.Output, StringComparison.Ordinal);
        Assert.Contains("reminder-week    will not receive it: mail to the address is stopped", dead.Output, StringComparison.Ordinal);
        Assert.Matches(@"came back\s+2024-05-02 10:00:\d\d Europe/Berlin hard 5\.1\.1 of announcement \(smtp\): 550 5\.1\.1", dead.Output);
        Assert.DoesNotContain("came back", good.Output, StringComparison.Ordinal);
        Assert.Contains("reminder-week    due now", good.Output, StringComparison.Ordinal);
    }
}
