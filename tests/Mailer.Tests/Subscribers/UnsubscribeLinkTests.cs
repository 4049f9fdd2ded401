using System.Net;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Subscribers.TestSteps;

namespace Mailer.Tests.Subscribers;

public class UnsubscribeLinkTests
{
    [Fact]
    public async Task UnsubscribePage_Get_ShowsOneButtonAndChangesNothing()
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var path = MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id));

        var response = await app.CreateClient().GetAsync(path, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.BodyAsync();
        Assert.Contains($"""<form method="post" action="{path}">""", html);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "<button"));
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
