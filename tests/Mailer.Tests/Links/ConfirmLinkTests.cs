using System.Net;
using System.Text.RegularExpressions;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Links;

/// <summary>
/// The double opt-in's last step. Opening the link (what mail scanners do) shows a page with one button; only the
/// button's POST confirms and becomes the proof of consent.
/// </summary>
public class ConfirmLinkTests
{
    [Fact]
    public async Task ConfirmPage_Get_ShowsOneButton_AndLeavesTheSubscriberPendingWithNoConfirmationRecorded()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        await app.CreateClientFrom("203.0.113.7").PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        var path = MailerAppFactory.PathOf(Assert.Single(app.ConfirmationMails.All).ConfirmUrl);

        var scanner = await app.CreateClientFrom("198.51.100.9").GetAsync(path, Cancel);

        Assert.Equal(HttpStatusCode.OK, scanner.StatusCode);
        var html = await scanner.BodyAsync();
        Assert.Contains($"""<form method="post" action="{path}">""", html);
        Assert.Single(Regex.Matches(html, "<button"));
        Assert.Contains("Ja, Anmeldung bestätigen", html);
        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
        Assert.Null(subscriber.ConfirmedAt);
        var consent = Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel));
        Assert.Null(consent.ConfirmedAt);
        Assert.Null(consent.ConfirmIp);
    }

    [Fact]
    public async Task Confirm_WithTheButton_ConfirmsAndRecordsThePressNotTheScannersVisit()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        await app.CreateClientFrom("203.0.113.7").PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        var mail = Assert.Single(app.ConfirmationMails.All);
        await app.CreateClientFrom("198.51.100.9").GetAsync(MailerAppFactory.PathOf(mail.ConfirmUrl), Cancel);
        clock.Advance(TimeSpan.FromHours(2));

        var response = await app.CreateClientFrom("203.0.113.8").ConfirmWithButtonAsync(mail.ConfirmUrl);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Danke, du bist angemeldet!", await response.BodyAsync());
        var subscriber = (await app.Store.FindAsync(mail.Recipient.SubscriberId, Cancel))!;
        Assert.Equal(SubscriberStatus.Confirmed, subscriber.Status);
        Assert.Equal(clock.GetUtcNow(), subscriber.ConfirmedAt);
        var consent = Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel));
        Assert.Equal("203.0.113.7", consent.ClientIp);
        Assert.Equal(clock.GetUtcNow(), consent.ConfirmedAt);
        Assert.Equal("203.0.113.8", consent.ConfirmIp);
    }

    [Fact]
    public async Task Confirm_Twice_ShowsConfirmedAgainAndKeepsTheFirstPress()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        var client = app.CreateClient();
        await client.PostSignupAsync("anna@example.de", locale: "en");
        await app.RunConfirmationJobsAsync();
        var link = app.ConfirmationMails.All[0].ConfirmUrl;
        var page = await client.GetStringAsync(MailerAppFactory.PathOf(link), Cancel);

        await client.PostAsync(MailerAppFactory.PathOf(link), new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);
        clock.Advance(TimeSpan.FromHours(1));
        var again = await client.PostAsync(MailerAppFactory.PathOf(link), new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);
        var opened = await client.GetAsync(MailerAppFactory.PathOf(link), Cancel);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("you are signed up", await again.BodyAsync());
        Assert.Contains("you are signed up", await opened.BodyAsync());
        Assert.Equal(Start, (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!.ConfirmedAt);
    }

    [Fact]
    public async Task Confirm_ButtonWithoutAntiforgery_Returns400WithTheButtonAgainAndChangesNothing()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var id = await PendingSubscriberAsync(app, "anna@example.de");
        var path = MailerAppFactory.PathOf(app.Links.ConfirmUrl(id));

        var response = await app.CreateClient().PostAsync(path, new FormUrlEncodedContent([]), Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.BodyAsync();
        Assert.Contains("zu lange offen", html);
        Assert.Contains($"""<form method="post" action="{path}">""", html);
        Assert.Equal(SubscriberStatus.Pending, (await app.Store.FindAsync(id, Cancel))!.Status);
        Assert.Null(Assert.Single(await app.Store.ConsentsAsync(id, Cancel)).ConfirmedAt);
    }

    [Fact]
    public async Task Confirm_AfterConfirmWithin_ShowsTheExpiredPageOnGetAndPost_AndChangesNothing()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock, Settings = { ["Subscribers:ConfirmWithin"] = "2.00:00:00" } };
        var client = app.CreateClient();
        await client.PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        var path = MailerAppFactory.PathOf(app.ConfirmationMails.All[0].ConfirmUrl);
        var page = await client.GetStringAsync(path, Cancel);
        clock.Advance(TimeSpan.FromDays(2) + TimeSpan.FromSeconds(1));

        var opened = await client.GetAsync(path, Cancel);
        var pressed = await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);

        foreach (var response in new[] { opened, pressed })
        {
            Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
            var html = await response.BodyAsync();
            Assert.Contains("abgelaufen", html);
            Assert.Contains("gelten 2 Tage", html);
        }

        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
        Assert.Null(Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel)).ConfirmedAt);
    }

    [Fact]
    public async Task Confirm_AfterUnsubscribing_DoesNotBringTheSubscriberBack()
    {
        await using var app = new MailerAppFactory();
        var id = await PendingSubscriberAsync(app, "anna@example.de");
        var path = MailerAppFactory.PathOf(app.Links.ConfirmUrl(id));
        var client = app.CreateClient();
        var page = await client.GetStringAsync(path, Cancel);
        await app.Store.UnsubscribeAsync(id, DateTimeOffset.UtcNow, Cancel);

        var opened = await client.GetAsync(path, Cancel);
        var pressed = await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);

        Assert.Equal(HttpStatusCode.NotFound, opened.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, pressed.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(id, Cancel))!.Status);
    }

    [Fact]
    public async Task Confirm_WithATamperedOrForeignToken_Shows404OnGetAndPost_AndChangesNothing()
    {
        await using var app = new MailerAppFactory();
        var id = await PendingSubscriberAsync(app, "anna@example.de");
        var client = app.CreateClient();
        var page = await client.GetStringAsync(MailerAppFactory.PathOf(app.Links.ConfirmUrl(id)), Cancel);
        var button = MailerAppFactory.AntiforgeryField(page);
        var token = Token(app.Links.ConfirmUrl(id));
        var tampered = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');
        var foreign = Token(app.Links.UnsubscribeUrl(id));
        var before = await app.CountRowsAsync();

        foreach (var bad in new[] { tampered, foreign })
        {
            var opened = await client.GetAsync($"/confirm/{bad}", Cancel);
            var pressed = await client.PostAsync($"/confirm/{bad}", new FormUrlEncodedContent([button]), Cancel);
            Assert.Equal(HttpStatusCode.NotFound, opened.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, pressed.StatusCode);
            Assert.Contains("Dieser Link funktioniert nicht", await pressed.BodyAsync());
        }

        Assert.Equal(before, await app.CountRowsAsync());
        Assert.Equal(SubscriberStatus.Pending, (await app.Store.FindAsync(id, Cancel))!.Status);
    }
}
