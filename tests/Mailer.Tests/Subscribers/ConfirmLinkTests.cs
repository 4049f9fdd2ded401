using System.Net;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Subscribers.TestSteps;

namespace Mailer.Tests.Subscribers;

public class ConfirmLinkTests
{
    [Fact]
    public async Task Confirm_WithTheLinkFromTheMail_ConfirmsAndRecordsTheClick()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        await app.CreateClientFrom("203.0.113.7").PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        var mail = Assert.Single(app.ConfirmationMails.All);
        clock.Advance(TimeSpan.FromHours(2));

        var response = await app.CreateClientFrom("203.0.113.8").GetAsync(MailerAppFactory.PathOf(mail.ConfirmUrl), Cancel);

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
    public async Task Confirm_Twice_ShowsConfirmedAgainAndKeepsTheFirstClick()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        var client = app.CreateClient();
        await client.PostSignupAsync("anna@example.de", locale: "en");
        await app.RunConfirmationJobsAsync();
        var link = MailerAppFactory.PathOf(app.ConfirmationMails.All[0].ConfirmUrl);

        await client.GetAsync(link, Cancel);
        clock.Advance(TimeSpan.FromHours(1));
        var again = await client.GetAsync(link, Cancel);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("you are signed up", await again.BodyAsync());
        Assert.Equal(Start, (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!.ConfirmedAt);
    }

    [Fact]
    public async Task Confirm_AfterConfirmWithin_ShowsTheExpiredPageAndChangesNothing()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock, Settings = { ["Subscribers:ConfirmWithin"] = "2.00:00:00" } };
        var client = app.CreateClient();
        await client.PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        clock.Advance(TimeSpan.FromDays(2) + TimeSpan.FromSeconds(1));

        var response = await client.GetAsync(MailerAppFactory.PathOf(app.ConfirmationMails.All[0].ConfirmUrl), Cancel);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        var html = await response.BodyAsync();
        Assert.Contains("abgelaufen", html);
        Assert.Contains("gelten 2 Tage", html);
        Assert.Equal(SubscriberStatus.Pending, (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!.Status);
    }

    [Fact]
    public async Task Confirm_AfterUnsubscribing_DoesNotBringTheSubscriberBack()
    {
        await using var app = new MailerAppFactory();
        var id = await PendingSubscriberAsync(app, "anna@example.de");
        await app.Store.UnsubscribeAsync(id, DateTimeOffset.UtcNow, Cancel);

        var response = await app.CreateClient().GetAsync(MailerAppFactory.PathOf(app.Links.ConfirmUrl(id)), Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(id, Cancel))!.Status);
    }
}
