using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Mailer.Tests.Signups;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// The standing list from the signup to the next campaign, through the whole service and a real SMTP server: a person
/// who ticks the choice gets the next campaign's invitation (and someone who did not, none), one button press on its link
/// subscribes them and the next campaign's guide follows; unsubscribing from an invitation takes the address off the list.
/// </summary>
public sealed partial class StandingListInvitationTests : IAsyncLifetime
{
    private const string Meta = "meta-ai-objection";
    private const string Next = "meta-2025";
    private static readonly DateTimeOffset MetaLaunch = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NextLaunch = new(2024, 5, 20, 8, 0, 0, TimeSpan.Zero);

    private TestSmtpServer _smtp = null!;
    private readonly string _data = TestPaths.NewTemporaryDirectory("standing-list");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task TickedAtSignup_InvitedToTheNextCampaign_OnePressSubscribes_AndItsGuideFollows()
    {
        var time = new FakeTimeProvider(MetaLaunch.AddDays(-2));
        await using var host = new CampaignHost(_data, _smtp, time, Settings()).Start();
        var client = host.CreateClient();

        await SignUpAndConfirmAsync(client, "lena@example.net", standingList: true);
        await SignUpAndConfirmAsync(client, "max@example.net", standingList: false);
        await SignUpAndConfirmAsync(client, "olga@example.net", standingList: true);

        time.SetUtcNow(NextLaunch.AddSeconds(1));
        var invitations = await MailsAsync("invite", 2);
        Assert.Equal(["lena@example.net", "olga@example.net"], invitations.Select(m => m.To).Order(StringComparer.Ordinal));
        var lena = invitations.Single(m => m.To == "lena@example.net").Message;
        Assert.Equal($"<{Next}.example.org>", lena.Headers["List-Id"]);
        Assert.Equal("Neue Frist: Widersprich Metas KI-Training bis zum 15. Juni 2024", lena.Subject);
        Assert.Contains("15. Juni 2024, 23:59 Uhr", lena.TextBody, StringComparison.Ordinal);
        Assert.Contains("bei einer früheren Kampagne angekreuzt", lena.TextBody, StringComparison.Ordinal);
        Assert.NotNull(lena.Headers["List-Unsubscribe"]);

        // Nothing is sent for the new campaign before the press: the invitation is a pending subscription.
        await host.WaitForDispatchRunsAsync();
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE campaign = @Next", new { Next }));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE campaign = @Next AND email = 'max@example.net'", new { Next }));

        var pressed = await client.ConfirmWithButtonAsync(ConfirmUrl(lena));
        Assert.Equal(HttpStatusCode.OK, pressed.StatusCode);
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM subscribers s JOIN consents c ON c.subscriber_id = s.id WHERE s.campaign = @Next AND s.email = 'lena@example.net' "
            + "AND s.status = 'confirmed' AND c.source = 'invite' AND c.purpose = 'campaign' AND c.confirmed_at IS NOT NULL AND c.consent_text_version LIKE 'standing-list:%'",
            new { Next }));

        // Meta's week reminder went out at the same moment, so the guide of the new one waits for the gap between mails.
        time.SetUtcNow(NextLaunch.AddDays(1).AddMinutes(1));
        var guide = await MailsAsync("announcement", 4);
        Assert.Contains(guide, m => m.To == "lena@example.net" && m.Message.Headers["List-Id"] == $"<{Next}.example.org>");

        // Olga does not want it: one click on the invitation's unsubscribe takes her off the standing list; Meta's mails stay hers.
        var olga = invitations.Single(m => m.To == "olga@example.net").Message;
        var oneClick = await client.PostAsync(MailerAppFactory.PathOf(UnsubscribeUrl(olga)), TestSteps.OneClickBody(), Cancel);
        Assert.Equal(HttpStatusCode.OK, oneClick.StatusCode);
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE email = 'olga@example.net' AND standing_list_at IS NOT NULL"));
        Assert.Equal(0, await host.CountAsync(
            "SELECT COUNT(*) FROM consents c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email = 'olga@example.net' AND c.purpose = 'standing-list' AND c.withdrawn_at IS NULL"));
        Assert.Equal(1, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE email = 'olga@example.net' AND campaign = @Meta AND status = 'confirmed'", new { Meta }));
        Assert.Equal(1, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE email = 'lena@example.net' AND campaign = @Meta AND standing_list_at IS NOT NULL", new { Meta }));

        // The invitation went out once: later dispatches invite nobody again.
        await host.WaitForDispatchRunsAsync();
        Assert.Equal(2, _smtp.Messages.Count(m => m.Message.Headers["X-Mailing"] == "invite"));
    }

    private async Task SignUpAndConfirmAsync(HttpClient client, string email, bool standingList)
    {
        var before = _smtp.Messages.Count;
        var answer = await client.PostAsJsonAsync("/subscribe",
            new { email, platforms = new[] { "facebook" }, locale = "de", campaign = Meta, standingList }, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        await _smtp.WaitForMessagesAsync(before + 1, TimeSpan.FromMinutes(1));
        var confirm = _smtp.Messages.Last(m => m.To.Single() == email).Message;
        Assert.Equal("confirm", confirm.Headers["X-Mailing"]);
        Assert.Equal(HttpStatusCode.OK, (await client.ConfirmWithButtonAsync(ConfirmUrl(confirm))).StatusCode);
    }

    private async Task<List<(string To, MimeMessage Message)>> MailsAsync(string mailing, int count)
    {
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count(m => m.Message.Headers["X-Mailing"] == mailing) >= count),
            TimeSpan.FromMinutes(2), $"{count} {mailing} mails");
        return [.. _smtp.Messages.Where(m => m.Message.Headers["X-Mailing"] == mailing).Select(m => (m.To.Single(), m.Message))];
    }

    private static string ConfirmUrl(MimeMessage message) => ConfirmLink().Match(message.TextBody ?? "").Value;

    private static string UnsubscribeUrl(MimeMessage message) => message.Headers["List-Unsubscribe"]!.Trim().Trim('<', '>');

    [GeneratedRegex(@"https://kampagne\.example\.org/confirm/\S+")]
    private static partial Regex ConfirmLink();

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Rendering:TemplateDirectory"] = CampaignTemplates.WithCopy(Meta, Next),
        [$"Campaigns:{Meta}:LaunchAt"] = "2024-05-01T12:00:00",
        [$"Campaigns:{Next}:Deadline"] = "2024-06-15T23:59:59",
        [$"Campaigns:{Next}:TimeZone"] = "Europe/Berlin",
        [$"Campaigns:{Next}:LaunchAt"] = "2024-05-20T10:00:00",
        [$"Campaigns:{Next}:InviteStandingList"] = "true",
        [$"Campaigns:{Next}:Platforms:facebook:FormUrl"] = "https://www.facebook.com/help/contact/712876720715583",
    };
}
