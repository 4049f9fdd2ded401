using Dapper;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// Two campaigns with different deadlines in one process, with the real store, dispatcher, send jobs and SMTP server:
/// each person gets exactly the mails of the campaigns they are in, the gap between two mails holds across campaigns
/// (the later one waits), and a one-off mailing goes out once to its audience.
/// </summary>
public sealed class TwoCampaignsTests : IAsyncLifetime
{
    private const string Meta = "meta-ai-objection";
    private const string Next = "meta-2025";

    // Meta's guide: launch 1 May 12:00, week reminder 19 May 09:00 (07:00Z). The next campaign launches at that very moment.
    private static readonly DateTimeOffset MetaLaunch = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WeekDue = new(2024, 5, 19, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset FormMovedAt = new(2024, 6, 1, 8, 0, 0, TimeSpan.Zero);

    private TestSmtpServer _smtp = null!;
    private readonly string _data = TestPaths.NewTemporaryDirectory("two-campaigns");

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task TwoCampaignsAtOnce_EachPersonGetsTheirCampaignsMails_TheGapHoldsAcrossThem_AndAOneOffGoesOutOnce()
    {
        var time = new FakeTimeProvider(MetaLaunch.AddHours(-1));
        await using var host = new CampaignHost(_data, _smtp, time, Settings()).Start();
        var confirmed = MetaLaunch.AddDays(-1);
        await host.AddConfirmedAsync(1, confirmed, platforms: "facebook", prefix: "anna", campaign: Meta);
        await host.AddConfirmedAsync(1, confirmed, platforms: "facebook", prefix: "anna", campaign: Next);
        await host.AddConfirmedAsync(1, confirmed, platforms: "facebook", prefix: "bert", campaign: Meta);
        await host.AddConfirmedAsync(1, confirmed, platforms: "facebook", prefix: "carla", campaign: Next);

        time.SetUtcNow(MetaLaunch.AddSeconds(1));
        await WaitForSentAsync(host, 2);
        Assert.Equal([("anna0@example.net", Meta, "announcement"), ("bert0@example.net", Meta, "announcement")], Received());

        // Meta's week reminder and the next campaign's announcement fall due together: Anna gets one now, the other a day later.
        time.SetUtcNow(WeekDue.AddSeconds(1));
        await WaitForSentAsync(host, 5);
        await host.WaitForDispatchRunsAsync();
        var annaNow = Received().Count(r => r.To == "anna0@example.net");
        Assert.Equal(2, annaNow);
        Assert.Contains(("bert0@example.net", Meta, "reminder-week"), Received());
        Assert.Contains(("carla0@example.net", Next, "announcement"), Received());
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'anna0@example.net' AND d.status = 'queued' AND d.last_reply LIKE 'waiting:%'"));

        time.SetUtcNow(WeekDue.AddDays(1).AddMinutes(1));
        await WaitForSentAsync(host, 6);
        await using var connection = await host.Database.OpenAsync(TestContext.Current.CancellationToken);
        var annaSent = (await connection.QueryAsync<long>(
            "SELECT d.sent_at FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'anna0@example.net' AND d.sent_at > @After ORDER BY d.sent_at",
            new { After = MetaLaunch.AddDays(1).ToUnixTimeMilliseconds() })).ToList();
        Assert.Equal(2, annaSent.Count);
        Assert.True(annaSent[1] - annaSent[0] >= (long)TimeSpan.FromDays(1).TotalMilliseconds, "the second mail waited for the gap");

        // The one-off of the next campaign: to those in it with a platform not done; Carla objected already.
        await host.ExecuteAsync("UPDATE subscribers SET done_platforms = 'facebook' WHERE email = 'carla0@example.net' AND campaign = @Next", new { Next });
        time.SetUtcNow(FormMovedAt.AddSeconds(1));
        await WaitForSentAsync(host, 7);
        await host.WaitForDispatchRunsAsync();

        Assert.Equal(
            [
                ("anna0@example.net", Next, "announcement"), ("anna0@example.net", Next, "form-moved"),
                ("anna0@example.net", Meta, "announcement"), ("anna0@example.net", Meta, "reminder-week"),
                ("bert0@example.net", Meta, "announcement"), ("bert0@example.net", Meta, "reminder-week"),
                ("carla0@example.net", Next, "announcement"),
            ],
            Received().OrderBy(r => r.To, StringComparer.Ordinal).ThenBy(r => r.Campaign, StringComparer.Ordinal).ThenBy(r => r.Mailing, StringComparer.Ordinal));
        Assert.Equal("skipped: every chosen platform is marked done", await connection.ExecuteScalarAsync<string>(
            "SELECT d.last_reply FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'carla0@example.net' AND d.mailing = 'form-moved'"));
    }

    private static Task WaitForSentAsync(CampaignHost host, long sent) =>
        Eventually.MeetsAsync(async () => await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'") >= sent,
            TimeSpan.FromMinutes(2), $"{sent} mails sent");

    /// <summary>Each message received: its address, its campaign (from List-Id) and its mailing.</summary>
    private List<(string To, string Campaign, string Mailing)> Received() =>
        [.. _smtp.Messages.Select(m => (m.To.Single(), m.Message.Headers["List-Id"]!.Trim('<', '>').Split('.')[0], m.Message.Headers["X-Mailing"]!))];

    private Dictionary<string, string?> Settings()
    {
        // The next campaign's templates: a copy of the guide's, with a one-off of its own.
        var templates = CampaignTemplates.WithCopy(Meta, Next);
        AddOneOff(Path.Combine(templates, Next));
        return new()
        {
            ["Rendering:TemplateDirectory"] = templates,
            [$"Campaigns:{Meta}:LaunchAt"] = "2024-05-01T12:00:00",
            [$"Campaigns:{Next}:Deadline"] = "2024-06-09T23:59:59",
            [$"Campaigns:{Next}:TimeZone"] = "Europe/Berlin",
            [$"Campaigns:{Next}:LaunchAt"] = "2024-05-19T09:00:00",
            [$"Campaigns:{Next}:Platforms:facebook:FormUrl"] = "https://www.facebook.com/help/contact/712876720715583",
            [$"Campaigns:{Next}:Mailings:announcement:When"] = "Launch",
            [$"Campaigns:{Next}:Mailings:form-moved:When"] = "At",
            [$"Campaigns:{Next}:Mailings:form-moved:At"] = "2024-06-01T10:00:00",
            [$"Campaigns:{Next}:Mailings:reminder-final:AtLocalTime"] = "08:00",
        };
    }

    private static void AddOneOff(string campaign)
    {
        foreach (var locale in new[] { "de", "en" })
        {
            foreach (var part in new[] { "subject", "html", "txt" })
            {
                // The one-off: the final reminder's words will do for the test.
                File.Copy(Path.Combine(campaign, locale, $"reminder-final.{part}.sbn"), Path.Combine(campaign, locale, $"form-moved.{part}.sbn"));
                File.Delete(Path.Combine(campaign, locale, $"reminder-week.{part}.sbn"));
            }
        }
    }
}
