using System.Net;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Links;

public class UnsubscribeLinkTests
{
    [Fact]
    public async Task UnsubscribePage_Get_ShowsTheTwoButtons_ThisCampaignAndEverything_AndChangesNothing()
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var path = MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id));

        var response = await app.CreateClient().GetAsync(path, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.BodyAsync();
        Assert.Contains($"""<form method="post" action="{path}">""", html);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(html, "<button").Count);
        Assert.Contains("""<button type="submit" name="scope" value="everything">""", html);
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(id, Cancel))!.Status);
    }

    [Fact]
    public async Task Unsubscribe_WithTheButton_UnsubscribesAndWithdrawsTheConsent()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var path = MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id));
        var client = app.CreateClient();
        var page = await client.GetStringAsync(path, Cancel);
        clock.Advance(TimeSpan.FromMinutes(3));

        var response = await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Du bist abgemeldet", await response.BodyAsync());
        var subscriber = (await app.Store.FindAsync(id, Cancel))!;
        Assert.Equal(SubscriberStatus.Unsubscribed, subscriber.Status);
        Assert.Equal(clock.GetUtcNow(), subscriber.UnsubscribedAt);
        Assert.All(await app.Store.ConsentsAsync(id, Cancel), c => Assert.Equal(clock.GetUtcNow(), c.WithdrawnAt));
    }

    [Fact]
    public async Task OnePersonInTwoCampaigns_TheFirstButtonLeavesThisOne_LeaveEverythingLeavesBoth()
    {
        await using var app = new MailerAppFactory();
        var meta = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var other = await ConfirmedElsewhereAsync(app, "anna@example.de", "tiktok-2025");
        var client = app.CreateClient();

        var path = MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(meta));
        var page = await client.GetStringAsync(path, Cancel);
        await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(meta, Cancel))!.Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(other, Cancel))!.Status);

        var otherPath = MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(other));
        var otherPage = await client.GetStringAsync(otherPath, Cancel);
        var response = await client.PostAsync(otherPath,
            new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(otherPage), new("scope", "everything")]), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(other, Cancel))!.Status);
        Assert.All(await app.Store.ConsentsAsync(other, Cancel), c => Assert.NotNull(c.WithdrawnAt));
    }

    [Fact]
    public async Task LeaveEverything_FromOneCampaign_LeavesTheOthersOfTheSameAddressOnly()
    {
        await using var app = new MailerAppFactory();
        var meta = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var other = await ConfirmedElsewhereAsync(app, "anna@example.de", "tiktok-2025");
        var bert = await ConfirmedElsewhereAsync(app, "bert@example.de", "tiktok-2025");

        Assert.Equal(2, await app.Store.UnsubscribeEverywhereAsync(meta, DateTimeOffset.UtcNow, Cancel));

        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(meta, Cancel))!.Status);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(other, Cancel))!.Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(bert, Cancel))!.Status);
    }

    private static async Task<long> ConfirmedElsewhereAsync(MailerAppFactory app, string email, string campaign)
    {
        var signup = new Signup(email, "de", ["facebook"], ConsentSource.Api, "test", null, null) { Campaign = campaign };
        var id = (await app.Store.SignUpAsync(signup, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), Cancel)).SubscriberId;
        Assert.Equal(ConfirmOutcome.Confirmed, await app.Store.ConfirmAsync(id, DateTimeOffset.UtcNow, null, Cancel));
        return id;
    }

    [Fact]
    public async Task Unsubscribe_ButtonWithoutAntiforgery_Returns400AndChangesNothing()
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");

        var response = await app.CreateClient().PostAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)),
            new FormUrlEncodedContent([new("List-Unsubscribe", "Please")]), Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("zu lange offen", await response.BodyAsync());
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(id, Cancel))!.Status);
    }

    [Theory]
    [InlineData("urlencoded")]
    [InlineData("multipart")]
    public async Task Unsubscribe_OneClick_WorksWithoutCookieOrAntiforgery(string encoding)
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        HttpContent body = encoding == "multipart"
            ? new MultipartFormDataContent { { new StringContent("One-Click"), "List-Unsubscribe" } }
            : OneClickBody();
        using var mailProvider = new HttpClient(app.Server.CreateHandler()) { BaseAddress = new Uri("http://localhost") };

        var response = await mailProvider.PostAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), body, Cancel);
        var again = await mailProvider.PostAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), OneClickBody(), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(id, Cancel))!.Status);
        Assert.Equal(0, app.CapturedJobs.ConfirmationCount);
    }

    [Fact]
    public async Task Unsubscribe_OfAPendingSubscriber_WithdrawsBeforeConfirming()
    {
        await using var app = new MailerAppFactory();
        var id = await PendingSubscriberAsync(app, "anna@example.de");

        await app.CreateClient().PostAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), OneClickBody(), Cancel);

        var subscriber = (await app.Store.FindAsync(id, Cancel))!;
        Assert.Equal(SubscriberStatus.Unsubscribed, subscriber.Status);
        Assert.False(subscriber.AwaitsConfirmationMail);
    }
}
